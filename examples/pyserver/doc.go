// Package pyserver is a pub/sub chat server written in Python with asyncio
// (chat.py, standard library only), checked by stallproof's suite in
// another process: properties.RunExec starts it in a private network
// namespace with small socket buffers, where a client that stops reading
// blocks the server's writes after tens of kilobytes, as on a real
// network.
//
// chat.py serves a line protocol: HELLO on connect; "PUB <text>" is
// answered "OK <n>" and pushed as "MSG <text>" to every connected client.
// By default it is fixed: a bounded queue and a writer task per client, and
// a client whose queue would pass 64 KiB is dropped. With --broken it
// broadcasts under one asyncio.Lock and awaits every client's drain(), so
// one client that stops reading freezes every publish.
//
// The tests (suite_test.go) run the suite against both: the fixed server
// must pass; the broken one, in a child process, must fail on progress or
// delivery. By hand:
//
//	stallproof check -exec 'python3 chat.py --broken --port {port}' \
//	    -request 'PUB {id}-{n}' -reply OK -error ERR -greeting 1
package pyserver
