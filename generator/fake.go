package generator

import (
	"context"
	"encoding/json"
)

// FakeTeacher is a Teacher whose behaviour tests set with function fields.
type FakeTeacher struct {
	// InfoFunc answers Info; nil returns TeacherInfo{Name: "fake"}.
	InfoFunc func(ctx context.Context) (TeacherInfo, error)
	// WriteFunc answers Write; it must be set.
	WriteFunc func(ctx context.Context, req Request) (Response, error)
}

var _ Teacher = (*FakeTeacher)(nil)

// Info implements Teacher.
func (f *FakeTeacher) Info(ctx context.Context) (TeacherInfo, error) {
	if f.InfoFunc == nil {
		return TeacherInfo{Name: "fake"}, nil
	}
	return f.InfoFunc(ctx)
}

// Write implements Teacher.
func (f *FakeTeacher) Write(ctx context.Context, req Request) (Response, error) {
	return f.WriteFunc(ctx, req)
}

// FakeValidator is a Validator whose answer tests set with a function field.
type FakeValidator struct {
	// CheckFunc answers Check; nil accepts every candidate with no checks.
	CheckFunc func(s Sample, input string, target json.RawMessage) (Validation, *Rejection)
}

var _ Validator = (*FakeValidator)(nil)

// Check implements Validator.
func (f *FakeValidator) Check(s Sample, input string, target json.RawMessage) (Validation, *Rejection) {
	if f.CheckFunc == nil {
		return Validation{}, nil
	}
	return f.CheckFunc(s, input, target)
}
