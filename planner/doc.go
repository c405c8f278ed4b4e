// Package planner turns desired jobs, live jobs and the lockfile into a Plan:
// the normalisation table, the keyed diff, the choice between create, update,
// reset and delete, their order, and the saved-plan format.
//
// It is pure: no network, no files, no clock (time comes in through Input).
// Everything it knows about the workspace is handed to it.
package planner
