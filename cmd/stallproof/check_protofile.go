package main

import (
	"fmt"
	"os"

	"github.com/stallproof/stallproof/properties"
)

// loadProtocolFile reads a protocol described in a file.
func loadProtocolFile(path string) (properties.Protocol, error) {
	if _, err := os.Stat(path); err != nil {
		return properties.Protocol{}, fmt.Errorf("want v1, resp, nats, mqtt, lines or a protocol file: %v", err)
	}
	return properties.Protocol{}, fmt.Errorf("%s: protocol files are not supported yet", path)
}
