package emulator

import (
	"encoding/json"
	"net/http"
)

// telemetryPath is where the Databricks CLI uploads its usage logs after a
// command ([CLI] libs/telemetry/logger.go @7bbe2852: POST /telemetry-ext with
// {uploadTime, items: [], protoLogs: [...]}). The emulator takes and drops
// them, answering as the service does on success ([CLI]
// libs/telemetry/api.go ResponseBody: {errors, numProtoSuccess}), so that a
// CLI run against it sees no failed request; DATABRICKS_CLI_DISABLE_TELEMETRY
// turns the upload off instead.
const telemetryPath = "/telemetry-ext"

func serveTelemetry(w http.ResponseWriter, r *http.Request, body []byte) int {
	if r.Method != http.MethodPost {
		return respondError(w, endpointNotFound(r.Method, r.URL.Path))
	}
	var req struct {
		ProtoLogs []json.RawMessage `json:"protoLogs"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return respondError(w, malformed("Could not parse request object: %v", err))
	}
	b, _ := json.Marshal(map[string]any{"errors": []any{}, "numProtoSuccess": len(req.ProtoLogs)})
	writeBody(w, http.StatusOK, b)
	return http.StatusOK
}
