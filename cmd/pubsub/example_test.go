package main

import (
	"context"
	"fmt"
	"os"
	"strings"
)

func Example_naive() {
	run(context.Background(), []string{"naive", "--action", "created", "--resource-name", "FooBar", "--uri", "https://foo.example/1"},
		strings.NewReader(""), os.Stdout, os.Stdout)
	// Output:
	// {"mediaType":"application/vnd.globality.pubsub._.created.foo_bar","uri":"https://foo.example/1"}
}

func Example_usageError() {
	code := run(context.Background(), []string{"read", "--max", "50"}, strings.NewReader(""), os.Stdout, os.Stdout)
	fmt.Println("exit status", code)
	// Output:
	// pubsub read: --max must be between 1 and 10
	// Run 'pubsub read --help' for usage.
	// exit status 2
}
