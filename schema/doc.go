// Package schema loads job definitions from YAML, validates them against the
// embedded JSON schema and the semantic rules of the Jobs API, and keeps the
// file:line:col of every value so that each problem points at its source.
//
// It must not talk to the network or import any other jobsync package: it is
// the part of jobsync that runs before anything touches a workspace.
package schema
