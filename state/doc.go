// Package state is the lockfile: what jobsync last applied to one workspace,
// per job key. It owns the file format and its versions, atomic and durable
// writes, the journal that makes every completed action durable at O(1) cost,
// and the exclusive lock that keeps two applies apart.
//
// It must not import any other jobsync package nor talk to the network.
package state
