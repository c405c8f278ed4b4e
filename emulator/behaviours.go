package emulator

import (
	"fmt"
	"sort"
	"strings"
)

// Behaviour is one thing the real service does to what it is sent, as the
// public catalogues of its quirks record it (planner/FIDELITY.md lists each
// with its evidence). Every behaviour is on by default, so that tests meet
// the service as it is; Options.Without turns some off, for the few tests
// whose point is the bare stored settings.
type Behaviour uint32

const (
	// SortedTasks: jobs/get and jobs/list return tasks sorted by task_key
	// (laktory #286, TF #4159, #3126; [TF] jobs/resource_job.go:338-352
	// sorts on read because of it). Options.ReorderReads replaces it with a
	// hash order.
	SortedTasks Behaviour = 1 << iota
	// TaskReadDefaults: every task reads back with webhook_notifications {}
	// and disabled false ([CLI] bundle/configsync/defaults.go:42,46,50,54).
	TaskReadDefaults
	// CloudAttributeDefaults: a present aws_attributes block reads back with
	// the platform's availability and zone_id where it sets none, and zero
	// EBS counts ([TF] clusters/resource_cluster.go:60-89, 128-132).
	CloudAttributeDefaults
	// WorkloadTypeClients: workload_type.clients reads back with notebooks
	// and jobs true where unset ([TF] clusters/resource_cluster.go:283-293,
	// 388-390).
	WorkloadTypeClients
	// PolicyValues: a cluster spec with a known policy_id is saved with the
	// policy's fixed values, and with its default values for omitted fields
	// when apply_policy_default_values is true (cli #6512: fixed values are
	// set "regardless of apply_policy_default_values"; cli #5179, #6531).
	PolicyValues
	// DeltaPreviewConf: a job cluster on a legacy runtime (major version
	// below 6) reads back with spark_conf
	// "spark.databricks.delta.preview.enabled": "true" ([TF]
	// jobs/resource_job.go:912-923 suppresses the injection; the runtime
	// condition is our inference).
	DeltaPreviewConf
	// DataSecurityModeAliases: DATA_SECURITY_MODE_DEDICATED reads back as
	// SINGLE_USER, DATA_SECURITY_MODE_STANDARD as USER_ISOLATION,
	// DATA_SECURITY_MODE_AUTO as SINGLE_USER ([TF]
	// clusters/resource_cluster.go:109-119).
	DataSecurityModeAliases
	// InstancePoolRules: node_type_id or driver_node_type_id beside
	// instance_pool_id is refused ("The field 'node_type_id' cannot be
	// supplied when an instance pool ID is provided.", TF #2141, brickflow
	// #43), and driver_instance_pool_id reads back as the worker pool where
	// unset ([TF] clusters/resource_cluster.go:248-274, TF #824).
	InstancePoolRules
	// ZeroScalars: some scalar fields of a present object read back as their
	// zero value when unset (for_each_task.concurrency,
	// dashboard_task.subscription.paused, the trigger timings,
	// sql_task.alert|dashboard.pause_subscriptions): the "" / 0 / false
	// against null the bundle engine's all-empty rule absorbs ([CLI]
	// bundle/direct/bundle_plan.go:653-658; the fields are issue 14's list).
	ZeroScalars
	// FailedRunInternalError: a failed job run ends with life_cycle_state
	// INTERNAL_ERROR and result_state FAILED ([cloud]
	// acceptance/bundle/resources/job_runs/failed_run/output.txt:40-43).
	FailedRunInternalError
	// PrincipalsMustExist: an access control entry (permissions PUT or
	// PATCH, jobs/create's access_control_list) naming a user, group or
	// service principal the directory does not know is refused with
	// "Principal: UserName(x) does not exist" (TF #1415, cli #4488, TF #2302).
	PrincipalsMustExist
	// JobAccessControl: a caller who is not a workspace admin needs a
	// permission on the job (View to read it, Manage Run to run it, Manage
	// to change or delete it) and is refused with 403 before the job's
	// existence is checked ([cloud]
	// acceptance/bundle/resources/permissions/jobs/destroy_without_mgmtperms).
	JobAccessControl

	allBehaviours Behaviour = 1<<iota - 1
)

var behaviourNames = map[Behaviour]string{
	SortedTasks:             "sorted-tasks",
	TaskReadDefaults:        "task-read-defaults",
	CloudAttributeDefaults:  "cloud-attribute-defaults",
	WorkloadTypeClients:     "workload-type-clients",
	PolicyValues:            "policy-values",
	DeltaPreviewConf:        "delta-preview-conf",
	DataSecurityModeAliases: "data-security-mode-aliases",
	InstancePoolRules:       "instance-pool-rules",
	ZeroScalars:             "zero-scalars",
	FailedRunInternalError:  "failed-run-internal-error",
	PrincipalsMustExist:     "principals-must-exist",
	JobAccessControl:        "job-access-control",
}

// String names the behaviours in b, comma-separated.
func (b Behaviour) String() string {
	var names []string
	for bit, n := range behaviourNames {
		if b&bit != 0 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// ParseBehaviours reads a comma-separated list of behaviour names (the
// emulator's --without flag).
func ParseBehaviours(s string) (Behaviour, error) {
	var b Behaviour
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for bit, n := range behaviourNames {
			if n == name {
				b |= bit
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown emulator behaviour %q (known: %s)", name, allBehaviours)
		}
	}
	return b, nil
}

// on reports whether the server has behaviour b.
func (s *Server) on(b Behaviour) bool { return s.opts.Without&b == 0 }
