// Package httpx is the transport edge shared by fleetctl's server clients (InfluxDB, Grafana, Kapacitor). A client
// built with Pin sends its requests, and with them its credentials, only to the origin (scheme, host and port) it
// was configured with: a redirect to any other origin is refused, naming both URLs, and so is any redirect of a
// request that carries a body, which Go's client would re-send or turn into a GET. Cleartext says whether a URL
// would carry credentials unencrypted off the machine. BaseURL checks a server's configured URL, StatusError is the
// one shape of a server's refusal (HasStatus asks for its status), and Masked takes every secret out of its message:
// each client keeps only its API.
package httpx
