// Package jobsapi is jobsync's HTTP client of the Databricks Jobs API 2.2 and
// the job permissions API 2.0: authentication, retries, rate limiting and
// pagination.
//
// Settings travel as generic JSON trees so that fields this package does not
// know survive a round trip. It must not import any other jobsync package, and
// it must never print: it returns typed errors and lets the caller decide.
package jobsapi
