// Package readme holds the compiled twins of the README's code snippets; its test runs them on the
// in-memory backend, so the README cannot drift from the code.
package readme
