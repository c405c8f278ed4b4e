package jobsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/jobsync/jobsync/emulator"
)

// agreeOnPage checks decodeRaw against encoding/json (as decodeInto runs
// it): whenever decodeRaw takes a body, encoding/json reads it to the same
// page. It reports whether decodeRaw took it.
func agreeOnPage(t *testing.T, data []byte) bool {
	t.Helper()
	var fast listResponse[ListedJob]
	if !fast.decodeRaw(data) {
		if !reflect.DeepEqual(fast, listResponse[ListedJob]{}) {
			t.Fatalf("decodeRaw declined but left %#v behind", fast)
		}
		return false
	}
	var slow listResponse[ListedJob]
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&slow); err != nil {
		t.Fatalf("decodeRaw took a page encoding/json refuses (%v):\n%s", err, data)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("decodeRaw and encoding/json disagree on\n%s\nfast: %#v\nslow: %#v", data, fast, slow)
	}
	return true
}

// emulatorPage is the body of a jobs/list page of the emulator, which
// answers as the service does.
func emulatorPage(t *testing.T) []byte {
	t.Helper()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := New(Config{Host: srv.URL, Token: "dapi-test", AuthType: AuthTypePAT}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		body := fmt.Sprintf(`{"name":"job \"%d\" é","max_concurrent_runs":1,"tags":{"team":"a"},`+
			`"tasks":[{"task_key":"t","notebook_task":{"notebook_path":"/n","base_parameters":{"x":"{{job.id}}"}},`+
			`"new_cluster":{"spark_version":"15.4.x-scala2.12","node_type_id":"i3.xlarge","num_workers":%d}}]}`, i, i)
		if _, err := c.CreateJob(ctx, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/2.2/jobs/list?expand_tasks=true&limit=2", nil)
	req.Header.Set("Authorization", "Bearer dapi-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("jobs/list: %d %v\n%s", resp.StatusCode, err, data)
	}
	return data
}

// A page as the service writes it is read on the fast path.
func TestDecodeRawTakesServicePages(t *testing.T) {
	page := emulatorPage(t)
	if !agreeOnPage(t, page) {
		t.Fatalf("decodeRaw declined the emulator's page:\n%s", page)
	}
	var p listResponse[ListedJob]
	p.decodeRaw(page)
	if len(p.Jobs) != 2 || !p.HasMore || p.NextPageToken == "" || p.Jobs[0].CreatorUserName == "" {
		t.Fatalf("page read as %#v", p)
	}
	for _, body := range []string{
		`{}`, `{"has_more":false}`, `{"jobs":[]}`,
		`{"jobs":[{"job_id":1,"settings":{"a":[1,-2.5e3,true,false,null,"\u00e9\n"]},"unknown":{"x":[{}]},"has_more":true}],"prev_page_token":"p"}`,
	} {
		if !agreeOnPage(t, []byte(body)) {
			t.Errorf("decodeRaw declined %s", body)
		}
	}
}

// What encoding/json would read differently, or refuse, goes to it.
func TestDecodeRawDeclines(t *testing.T) {
	for _, body := range []string{
		`{"jobs":null}`,
		`{"Jobs":[]}`,
		`{"jobs":[{"Job_Id":1}]}`,
		`{"jobs":[{"job_id":1,"job_id":2}]}`,
		`{"jobs":[{"job_id":1.5}]}`,
		`{"jobs":[{"job_id":99999999999999999999}]}`,
		`{"jobs":[{"job_id":1,"settings":null}]}`,
		`{"jobs":[{"job_id":1,"creator_user_name":"a\u0062"}]}`,
		`{"jobs":[{"job_id":1,"settings":{"a":"\x"}}]}`,
		`{"jobs":[{"job_id":1,"settings":{"a":01}}]}`,
		`{"jobs":[{"job_id":1,"settings":{"a":1}]}`,
		`{"jobs":[]} trailing`,
		`{"next_page_token":"a","next_page_token":"b"}`,
		`[]`,
	} {
		var p listResponse[ListedJob]
		if p.decodeRaw([]byte(body)) {
			t.Errorf("decodeRaw took %s", body)
		}
	}
}

// Random edits of a real page: whatever decodeRaw takes, encoding/json reads
// the same way.
func TestDecodeRawRandomEdits(t *testing.T) {
	base := emulatorPage(t)
	rng := rand.New(rand.NewPCG(7, 11))
	const alphabet = "{}[],:\" \\\n0123456789-+.eEtrufalsnxé"
	taken := 0
	for range 4000 {
		data := append([]byte(nil), base...)
		for range 1 + rng.IntN(2) {
			i := rng.IntN(len(data))
			switch rng.IntN(3) {
			case 0:
				data[i] = alphabet[rng.IntN(len(alphabet))]
			case 1:
				data = append(data[:i], data[i+1:]...)
			default:
				data = append(data[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, data[i:]...)...)
			}
		}
		if agreeOnPage(t, data) {
			taken++
		}
	}
	if taken < 200 {
		t.Fatalf("decodeRaw took only %d of 4000 edited pages", taken)
	}
	t.Logf("decodeRaw took %d of 4000 edited pages", taken)
}

func FuzzDecodeRaw(f *testing.F) {
	f.Add([]byte(`{"jobs":[{"job_id":1,"creator_user_name":"a@b","settings":{"name":"x","tasks":[{"task_key":"t"}]}}],"has_more":true,"next_page_token":"t1"}`))
	f.Add([]byte(`{"jobs":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) { agreeOnPage(t, data) })
}
