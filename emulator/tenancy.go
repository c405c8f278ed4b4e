package emulator

// storeFor is the workspace a request with the given tenancy key (see
// directory.authenticate) is served from.
func (s *Server) storeFor(key string) *store { return s.st }
