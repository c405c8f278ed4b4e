// Package reliability holds jobsync's reliability suite, as tests only: the
// fault matrix (every fault of DESIGN.md §9 injected into the Jobs API
// emulator, or into the lockfile's disk, during plan and apply), the load
// test (5,000 jobs applied 16-way with random server failures), the
// security checks (no token in any output, private files, TLS verification,
// no plain HTTP to remote hosts) and fuzz targets that the owning packages
// do not have.
//
// Every test asserts the same invariants after its fault: no job is
// duplicated, nothing that was applied is missing from the lockfile, the
// lockfile agrees with the workspace, and a clean re-apply leaves an empty
// plan. RELIABILITY.md summarises the matrix.
//
// It talks only to loopback servers and writes only to temporary
// directories.
package reliability
