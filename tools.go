//go:build tools

// This file pins the design card's dependencies in go.mod while the packages
// that use them are being written; go mod tidy considers every build tag.
package main

import (
	_ "github.com/santhosh-tekuri/jsonschema/v5"
	_ "github.com/sergi/go-diff/diffmatchpatch"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/term"
	_ "gopkg.in/yaml.v3"
)
