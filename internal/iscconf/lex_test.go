package iscconf

import (
	"errors"
	"reflect"
	"testing"
)

func TestLex(t *testing.T) {
	text := "key \"rndc-key\" { // the key\n\talgorithm hmac-sha256; # comment\n" +
		"\tsecret \"a\\\"b\\\\c\";\n/* a\nblock */ };\nzone x.example{file \"x.db\";};"
	got, err := Lex(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []Token{
		{"key", false, 1}, {"rndc-key", true, 1}, {"{", false, 1},
		{"algorithm", false, 2}, {"hmac-sha256", false, 2}, {";", false, 2},
		{"secret", false, 3}, {`a"b\c`, true, 3}, {";", false, 3},
		{"}", false, 5}, {";", false, 5},
		{"zone", false, 6}, {"x.example", false, 6}, {"{", false, 6}, {"file", false, 6}, {"x.db", true, 6},
		{";", false, 6}, {"}", false, 6}, {";", false, 6},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Lex:\n got %v\nwant %v", got, want)
	}
	if !got[2].Punct("{") || (Token{Text: "{", Quoted: true}).Punct("{") {
		t.Fatal("Punct")
	}
}

func TestLexErrors(t *testing.T) {
	for text, want := range map[string]Error{
		"a;\nb \"open":        {2, "string not closed"},
		"a;\n\n/* open\nmore": {3, "comment not closed"},
	} {
		_, err := Lex(text)
		var e *Error
		if !errors.As(err, &e) || *e != want {
			t.Errorf("Lex(%q) = %v, want %v", text, err, want)
		}
	}
}
