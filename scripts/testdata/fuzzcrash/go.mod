module example.com/fuzzcrash

go 1.26
