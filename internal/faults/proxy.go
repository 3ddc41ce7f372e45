package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is what the proxy does with one request.
type Fault int

const (
	Pass        Fault = iota // forward it
	Error500                 // answer 500 InternalError/InternalFailure without forwarding
	Throttle                 // answer a throttling error without forwarding (SQS ThrottlingException or RequestThrottled; SNS Throttled 429 or Throttling 400)
	ResetBefore              // reset the connection without forwarding
	ResetAfter               // forward (the emulator applies the call), then reset the connection instead of answering
	Delay                    // forward, then hold the response for Proxy.Delay (past the client's timeout) before answering
	numFaults
)

func (f Fault) String() string {
	return [...]string{"pass", "500", "throttle", "reset-before", "reset-after", "delay"}[f]
}

// Request is what a Schedule sees of one request.
type Request struct {
	Op  string // operation: "ReceiveMessage", "Publish", ...
	Seq int64  // 1-based sequence number of the request at the proxy
}

// Schedule decides the fault for each request.
type Schedule func(Request) Fault

// EntryFailure decides whether one entry of a batch call fails: fail, and whether it is the
// sender's fault (not retryable). key is the entry's receipt handle (DeleteMessageBatch,
// ChangeMessageVisibilityBatch) or message body (PublishBatch).
type EntryFailure func(op, key string) (fail, senderFault bool)

// Proxy is a fault-injecting HTTP proxy on 127.0.0.1 in front of an SNS/SQS endpoint.
type Proxy struct {
	// Schedule picks the fault per request (nil: always Pass). Set it before traffic starts or
	// with SetSchedule.
	schedule atomic.Pointer[Schedule]
	// entries, when set, fails chosen batch entries: the proxy strips them from the forwarded
	// request (so the emulator never applies them) and adds them to the response's Failed list.
	entries atomic.Pointer[EntryFailure]
	// Delay is how long a Delay fault holds the response (default 5 s).
	Delay time.Duration

	upstream *url.URL
	srv      *http.Server
	ln       net.Listener
	client   *http.Client
	closing  chan struct{}
	conns    sync.WaitGroup

	seq      atomic.Int64
	mu       sync.Mutex
	byOp     map[string]int64
	byFault  [numFaults]int64
	arrivals []time.Time
	applied  map[string]int // forwarded entry keys of batch calls (receipt handle or body) → times
	entryBad map[string]int // entry keys the proxy failed
}

// NewProxy starts a proxy on 127.0.0.1 forwarding to upstream (a loopback URL).
func NewProxy(upstream string) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		Delay: 5 * time.Second, upstream: u, ln: ln, closing: make(chan struct{}),
		byOp: map[string]int64{}, applied: map[string]int{}, entryBad: map[string]int{},
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}},
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL is the proxy's endpoint.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// SetSchedule replaces the schedule (nil: pass everything).
func (p *Proxy) SetSchedule(s Schedule) {
	if s == nil {
		p.schedule.Store(nil)
		return
	}
	p.schedule.Store(&s)
}

// SetEntryFailure replaces the batch-entry failure rule (nil: none).
func (p *Proxy) SetEntryFailure(f EntryFailure) {
	if f == nil {
		p.entries.Store(nil)
		return
	}
	p.entries.Store(&f)
}

// Close stops the proxy: held responses are released, connections closed.
func (p *Proxy) Close() error {
	close(p.closing)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	if err != nil {
		_ = p.srv.Close()
	}
	p.conns.Wait()
	p.client.CloseIdleConnections()
	return nil
}

// Stats are the proxy's counters.
type Stats struct {
	Requests int64
	ByOp     map[string]int64
	ByFault  map[string]int64
}

// Stats returns the counters so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Requests: p.seq.Load(), ByOp: map[string]int64{}, ByFault: map[string]int64{}}
	for k, v := range p.byOp {
		s.ByOp[k] = v
	}
	for f, v := range p.byFault {
		if v > 0 {
			s.ByFault[Fault(f).String()] = v
		}
	}
	return s
}

// RequestsBetween counts requests that arrived in [from, to).
func (p *Proxy) RequestsBetween(from, to time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, t := range p.arrivals {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}

// MaxRate is the largest number of requests in any window of length w within [from, to).
func (p *Proxy) MaxRate(from, to time.Time, w time.Duration) int {
	p.mu.Lock()
	var ts []time.Time
	for _, t := range p.arrivals {
		if !t.Before(from) && t.Before(to) {
			ts = append(ts, t)
		}
	}
	p.mu.Unlock()
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// EntryCounts returns, per entry key of op's batch calls, how many times the proxy forwarded it
// to the emulator (applied) and how many times it failed it.
func (p *Proxy) EntryCounts(op string) (applied, failed map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cp := func(m map[string]int) map[string]int {
		out := map[string]int{}
		for k, v := range m {
			if key, ok := strings.CutPrefix(k, op+"|"); ok {
				out[key] = v
			}
		}
		return out
	}
	return cp(p.applied), cp(p.entryBad)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.conns.Add(1)
	defer p.conns.Done()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	op, sns := operation(r, body)
	req := Request{Op: op, Seq: p.seq.Add(1)}
	fault := Pass
	if s := p.schedule.Load(); s != nil {
		fault = (*s)(req)
	}
	p.mu.Lock()
	p.byOp[op]++
	p.byFault[fault]++
	p.arrivals = append(p.arrivals, time.Now())
	p.mu.Unlock()

	switch fault {
	case Error500:
		writeError(w, sns, http.StatusInternalServerError, map[bool]string{true: "InternalFailure", false: "InternalError"}[sns], "injected server error")
		return
	case Throttle:
		if sns {
			if req.Seq%2 == 0 {
				writeError(w, true, http.StatusTooManyRequests, "Throttled", "Rate exceeded")
			} else {
				writeError(w, true, http.StatusBadRequest, "Throttling", "Rate exceeded")
			}
		} else if req.Seq%2 == 0 {
			writeError(w, false, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
		} else {
			writeError(w, false, http.StatusBadRequest, "RequestThrottled", "Rate exceeded")
		}
		return
	case ResetBefore:
		reset(w)
		return
	}

	var failed []failedEntry
	if ef := p.entries.Load(); ef != nil {
		body, failed = p.stripEntries(op, body, *ef)
	}
	if len(failed) > 0 && body == nil {
		// Every entry failed: answer without forwarding (an empty batch is an error on AWS).
		resp := emptyBatchResponse(op)
		w.Header().Set("Content-Type", map[bool]string{true: "text/xml", false: "application/x-amz-json-1.0"}[sns])
		_, _ = w.Write(mergeFailed(op, resp, failed))
		return
	}
	p.recordApplied(op, body)
	resp, respBody, err := p.forward(r, body)
	if err != nil {
		reset(w)
		return
	}
	if len(failed) > 0 && resp.StatusCode == http.StatusOK {
		respBody = mergeFailed(op, respBody, failed)
	}
	switch fault {
	case ResetAfter:
		reset(w)
		return
	case Delay:
		t := time.NewTimer(p.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-p.closing:
		}
	}
	for k, vs := range resp.Header {
		if k == "Content-Length" {
			continue
		}
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(respBody)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}

func (p *Proxy) forward(r *http.Request, body []byte) (*http.Response, []byte, error) {
	u := *p.upstream
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	out.Header = r.Header.Clone()
	out.Host = r.Host
	resp, err := p.client.Do(out)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// reset closes the client's connection with an RST (SO_LINGER 0).
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("proxy: response writer cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// operation names the request's operation: SQS (awsJson1_0) from X-Amz-Target, SNS (awsQuery)
// from the form's Action.
func operation(r *http.Request, body []byte) (op string, sns bool) {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndexByte(t, '.')+1:], false
	}
	v, err := url.ParseQuery(string(body))
	if err == nil && v.Get("Action") != "" {
		return v.Get("Action"), true
	}
	return "unknown", false
}

func writeError(w http.ResponseWriter, sns bool, status int, code, msg string) {
	if sns {
		typ := "Sender"
		if status >= 500 {
			typ = "Receiver"
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>`, typ, code, msg)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Query-Error", code+";"+map[bool]string{true: "Receiver", false: "Sender"}[status >= 500])
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":"com.amazonaws.sqs#%s","message":%q}`, code, msg)
}

// failedEntry is a batch entry the proxy failed.
type failedEntry struct {
	id, key     string
	senderFault bool
}

// sqsBatch is the request of DeleteMessageBatch / ChangeMessageVisibilityBatch.
type sqsBatch struct {
	QueueUrl string           `json:"QueueUrl"`
	Entries  []map[string]any `json:"Entries"`
}

// entryKeyRe matches PublishBatchRequestEntries.member.N.<field>.
var entryKeyRe = regexp.MustCompile(`^PublishBatchRequestEntries\.member\.(\d+)\.(.+)$`)

// stripEntries removes the entries ef fails from a batch request; it returns the request to
// forward and the failed entries.
func (p *Proxy) stripEntries(op string, body []byte, ef EntryFailure) ([]byte, []failedEntry) {
	var failed []failedEntry
	switch op {
	case "DeleteMessageBatch", "ChangeMessageVisibilityBatch":
		var in sqsBatch
		var raw map[string]json.RawMessage
		if json.Unmarshal(body, &in) != nil || json.Unmarshal(body, &raw) != nil {
			return body, nil
		}
		kept := in.Entries[:0:0]
		for _, e := range in.Entries {
			key, _ := e["ReceiptHandle"].(string)
			id, _ := e["Id"].(string)
			if fail, sf := ef(op, key); fail {
				failed = append(failed, failedEntry{id: id, key: key, senderFault: sf})
				continue
			}
			kept = append(kept, e)
		}
		if len(failed) == 0 {
			return body, nil
		}
		if len(kept) == 0 {
			p.recordFailed(op, failed)
			return nil, failed
		}
		entries, _ := json.Marshal(kept)
		raw["Entries"] = entries
		out, _ := json.Marshal(raw)
		p.recordFailed(op, failed)
		return out, failed
	case "PublishBatch":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return body, nil
		}
		members := map[int]map[string][]string{}
		for k, vs := range v {
			if m := entryKeyRe.FindStringSubmatch(k); m != nil {
				n, _ := strconv.Atoi(m[1])
				if members[n] == nil {
					members[n] = map[string][]string{}
				}
				members[n][m[2]] = vs
			}
		}
		nums := make([]int, 0, len(members))
		for n := range members {
			nums = append(nums, n)
		}
		sort.Ints(nums)
		out := url.Values{}
		for k, vs := range v {
			if !entryKeyRe.MatchString(k) {
				out[k] = vs
			}
		}
		next := 1
		for _, n := range nums {
			m := members[n]
			key := first(m["Message"])
			if fail, sf := ef(op, key); fail {
				failed = append(failed, failedEntry{id: first(m["Id"]), key: key, senderFault: sf})
				continue
			}
			for f, vs := range m {
				out["PublishBatchRequestEntries.member."+strconv.Itoa(next)+"."+f] = vs
			}
			next++
		}
		if len(failed) == 0 {
			return body, nil
		}
		p.recordFailed(op, failed)
		if next == 1 {
			return nil, failed
		}
		return []byte(out.Encode()), failed
	}
	return body, nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func (p *Proxy) recordFailed(op string, failed []failedEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range failed {
		p.entryBad[op+"|"+f.key]++
	}
}

// recordApplied counts the entry keys of a batch request about to be forwarded.
func (p *Proxy) recordApplied(op string, body []byte) {
	var ks []string
	switch op {
	case "DeleteMessageBatch", "ChangeMessageVisibilityBatch":
		var in sqsBatch
		if json.Unmarshal(body, &in) != nil {
			return
		}
		for _, e := range in.Entries {
			k, _ := e["ReceiptHandle"].(string)
			ks = append(ks, k)
		}
	case "PublishBatch":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return
		}
		for k, vs := range v {
			if m := entryKeyRe.FindStringSubmatch(k); m != nil && m[2] == "Message" {
				ks = append(ks, first(vs))
			}
		}
	default:
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range ks {
		p.applied[op+"|"+k]++
	}
}

// emptyBatchResponse is a successful batch response with no entries.
func emptyBatchResponse(op string) []byte {
	if op == "PublishBatch" {
		return []byte(`<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult><Successful/><Failed/></PublishBatchResult><ResponseMetadata><RequestId>fault-proxy</RequestId></ResponseMetadata></PublishBatchResponse>`)
	}
	return []byte(`{"Successful":[],"Failed":[]}`)
}

// mergeFailed adds the failed entries to a batch response.
func mergeFailed(op string, body []byte, failed []failedEntry) []byte {
	switch op {
	case "DeleteMessageBatch", "ChangeMessageVisibilityBatch":
		var out map[string]json.RawMessage
		if json.Unmarshal(body, &out) != nil {
			return body
		}
		var list []map[string]any
		if raw, ok := out["Failed"]; ok {
			_ = json.Unmarshal(raw, &list)
		}
		for _, f := range failed {
			list = append(list, map[string]any{"Id": f.id, "Code": code(f), "Message": "injected entry failure", "SenderFault": f.senderFault})
		}
		b, _ := json.Marshal(list)
		out["Failed"] = b
		if _, ok := out["Successful"]; !ok {
			out["Successful"] = json.RawMessage("[]")
		}
		res, _ := json.Marshal(out)
		return res
	case "PublishBatch":
		var b strings.Builder
		for _, f := range failed {
			fmt.Fprintf(&b, "<member><Id>%s</Id><Code>%s</Code><Message>injected entry failure</Message><SenderFault>%t</SenderFault></member>", f.id, code(f), f.senderFault)
		}
		s := string(body)
		switch {
		case strings.Contains(s, "<Failed>"):
			s = strings.Replace(s, "<Failed>", "<Failed>"+b.String(), 1)
		case strings.Contains(s, "<Failed/>"):
			s = strings.Replace(s, "<Failed/>", "<Failed>"+b.String()+"</Failed>", 1)
		default:
			s = strings.Replace(s, "</PublishBatchResult>", "<Failed>"+b.String()+"</Failed></PublishBatchResult>", 1)
		}
		return []byte(s)
	}
	return body
}

func code(f failedEntry) string {
	if f.senderFault {
		return "InvalidParameter"
	}
	return "InternalError"
}
