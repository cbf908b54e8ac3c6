// Package nodeserver is a pub/sub chat server written for Node.js on its
// net module (chat.js, no npm packages), checked by stallproof's suite in
// another process: properties.RunExec starts it in a private network
// namespace with small socket buffers, where a client that stops reading
// blocks the server's writes after tens of kilobytes, as on a real
// network.
//
// chat.js serves the line protocol of pyserver: HELLO on connect; "PUB
// <text>" is answered "OK <n>" and pushed as "MSG <text>" to every
// connected client. By default it is fixed: a queue and a writer per
// client that waits only for its own client's 'drain', and a client whose
// queue would pass 64 KiB is dropped. With --broken every publish goes
// through one shared queue that writes to each client in turn and waits
// for the 'drain' of any client whose buffer is full, so one client that
// stops reading stops every publish.
//
// The tests (suite_test.go) run the suite against both: the fixed server
// must pass; the broken one, in a child process, must fail on progress or
// delivery. By hand:
//
//	stallproof check -exec 'node chat.js --broken --port {port}' \
//	    -request 'PUB {id}-{n}' -reply OK -error ERR -greeting 1
package nodeserver
