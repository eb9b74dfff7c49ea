//go:build !unix

package benchkit

import "time"

// ProcessCPU is zero where getrusage is missing.
func ProcessCPU() time.Duration { return 0 }

// ChildrenCPU is zero where getrusage is missing.
func ChildrenCPU() time.Duration { return 0 }
