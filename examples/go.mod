module github.com/stallproof/stallproof/examples

go 1.26.0

require (
	github.com/gorilla/websocket v1.5.3
	github.com/stallproof/stallproof v0.0.0
	go.uber.org/goleak v1.3.0
)

require (
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/net v0.60.0 // indirect
	pgregory.net/rapid v1.3.0 // indirect
)

replace github.com/stallproof/stallproof => ../
