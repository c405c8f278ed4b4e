package planner_test

import (
	"strings"
	"testing"

	"github.com/jobsync/jobsync/planner"
)

func TestCreatorGrantsError(t *testing.T) {
	create := func(key, acl string) planner.Action {
		return planner.Action{Op: planner.OpCreate, Key: key, Source: key + ".yml:2:3",
			Request: []byte(`{"name":"x","access_control_list":` + acl + `}`)}
	}
	me := "me@example.com"
	cases := []struct {
		name    string
		actions []planner.Action
		asked   bool
		want    string // "" for no error
	}{
		{"no grants, no lookup", []planner.Action{{Op: planner.OpCreate, Key: "a", Request: []byte(`{"name":"a"}`)}}, false, ""},
		{"groups only, no lookup", []planner.Action{create("a", `[{"group_name":"users","permission_level":"CAN_VIEW"}]`)}, false, ""},
		{"an update is not a create", []planner.Action{{Op: planner.OpReset, Key: "a", Request: []byte(`{"access_control_list":[{"user_name":"me@example.com","permission_level":"CAN_MANAGE"}]}`)}}, false, ""},
		{"another user", []planner.Action{create("a", `[{"user_name":"ann@example.com","permission_level":"CAN_MANAGE"}]`)}, true, ""},
		{"the creator as owner", []planner.Action{create("a", `[{"user_name":"me@example.com","permission_level":"IS_OWNER"}]`)}, false, ""},
		{"another owner named", []planner.Action{create("a", `[{"user_name":"ann@example.com","permission_level":"IS_OWNER"},{"user_name":"me@example.com","permission_level":"CAN_MANAGE"}]`)}, false, ""},
		{"the creator below owner", []planner.Action{create("b", `[{"user_name":"me@example.com","permission_level":"CAN_MANAGE"}]`)}, true,
			"job b (b.yml:2:3): permissions give me@example.com CAN_MANAGE"},
		{"in the permissions PUT after the create", []planner.Action{{Op: planner.OpCreate, Key: "c", Request: []byte(`{"name":"c"}`),
			Permissions: []byte(`{"access_control_list":[{"service_principal_name":"me@example.com","permission_level":"CAN_MANAGE_RUN"}]}`)}}, true,
			"job c: permissions give me@example.com CAN_MANAGE_RUN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			asked := false
			err := planner.CreatorGrantsError(&planner.Plan{Actions: tc.actions}, func() (string, bool) { asked = true; return me, true })
			if asked != tc.asked {
				t.Errorf("asked for the identity: %v, want %v", asked, tc.asked)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "declare permission_level: IS_OWNER for me@example.com")):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	unread := planner.CreatorGrantsError(&planner.Plan{Actions: []planner.Action{create("b", `[{"user_name":"me@example.com","permission_level":"CAN_MANAGE"}]`)}},
		func() (string, bool) { return "", false })
	if unread != nil {
		t.Errorf("an identity that cannot be read skips the check, got %v", unread)
	}
}
