module github.com/stallproof/stallproof

go 1.25.0

require (
	github.com/stretchr/testify v1.12.1 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	golang.org/x/net v0.58.0 // indirect
	pgregory.net/rapid v1.3.0 // indirect
)
