package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/logging"
	"github.com/microcosm-go/pubsub/fxconfig"
	"github.com/microcosm-go/pubsub/fxpubsub"
)

// Exit codes.
const (
	exitOK      = 0 // done
	exitFailure = 1 // the command ran and failed (AWS error, nothing to read from, ...)
	exitUsage   = 2 // bad command line
)

// appName is the configuration name: config keys come from PUBSUB__<SECTION>__<KEY> and
// $PUBSUB__SETTINGS as for a daemon named "pubsub".
const appName = "pubsub"

// usageError is a bad command line (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// command is one subcommand.
type command struct {
	name    string
	args    string // synopsis of its flags
	summary string
	details string // extra help text
	// setup registers the command's flags on fs and returns its body.
	setup func(fs *flag.FlagSet, g *globals) func(ctx context.Context, io *streams) error
}

// streams are the command's standard streams, and the two facts about its surroundings that
// [globals.confirm] needs (tests replace both).
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// terminal reports whether stdin is a terminal, so a person can answer a question.
	terminal func() bool
	// loopback reports whether an endpoint URL ("" for AWS itself) is on this machine.
	loopback func(endpoint string) bool
}

func (s *streams) progress(format string, args ...any) {
	fmt.Fprintf(s.stderr, format+"\n", args...)
}

var commands = []*command{writeCommand, readCommand, naiveCommand, provisionCommand, depthCommand, redriveCommand, purgeCommand}

// run is the whole program: it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runWith(ctx, args, &streams{stdin: stdin, stdout: stdout, stderr: stderr, terminal: stdinIsTerminal(stdin), loopback: isLoopbackEndpoint})
}

// runWith is run with the streams and hooks given.
func runWith(ctx context.Context, args []string, s *streams) int {
	stdout, stderr := s.stdout, s.stderr
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage())
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			if c := findCommand(args[1]); c != nil {
				fmt.Fprint(stdout, commandUsage(c))
				return exitOK
			}
		}
		fmt.Fprint(stdout, topUsage())
		return exitOK
	}
	c := findCommand(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "pubsub: unknown command %q\nRun 'pubsub --help' for usage.\n", args[0])
		return exitUsage
	}
	g := &globals{input: fxconfig.Input{Name: appName}, stderr: stderr}
	fs := flag.NewFlagSet("pubsub "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	body := c.setup(fs, g)
	g.bind(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, commandUsage(c))
			return exitOK
		}
		return usageFail(stderr, c, flagError(err))
	}
	if fs.NArg() > 0 {
		return usageFail(stderr, c, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	err := body(ctx, s)
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return usageFail(stderr, c, err)
	default:
		fmt.Fprintf(stderr, "pubsub %s: %s\n", c.name, redactKeyIDs(oneLine(err)))
		return exitFailure
	}
}

func usageFail(stderr io.Writer, c *command, err error) int {
	fmt.Fprintf(stderr, "pubsub %s: %s\nRun 'pubsub %s --help' for usage.\n", c.name, oneLine(err), c.name)
	return exitUsage
}

func flagError(err error) error {
	if f, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
		return fmt.Errorf("unknown flag -%s", f)
	}
	return err
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

func findCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func topUsage() string {
	var b strings.Builder
	b.WriteString(`Usage: pubsub COMMAND [flags]

pubsub publishes, reads, provisions and inspects SNS topics and SQS queues in the format of
microcosm-pubsub.

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Every command takes --endpoint-url URL (or the SDK's AWS_ENDPOINT_URL) to talk to an emulator,
--region, --profile, --config FILE, --set key=value and --debug; run 'pubsub COMMAND --help'.

Exit status: 0 on success, 1 when the command fails, 2 for a bad command line.
`)
	return b.String()
}

func commandUsage(c *command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: pubsub %s %s\n\n%s\n", c.name, c.args, c.summary)
	if c.details != "" {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimSpace(c.details))
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	g := &globals{}
	c.setup(fs, g)
	var own []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { own = append(own, f) })
	gfs := flag.NewFlagSet("globals", flag.ContinueOnError)
	g.bind(gfs)
	var common []*flag.Flag
	gfs.VisitAll(func(f *flag.Flag) {
		if f.Name != "testing" { // rejected: the commands always talk to SNS/SQS
			common = append(common, f)
		}
	})
	if len(own) > 0 {
		b.WriteString("\nFlags:\n")
		writeFlags(&b, own)
	}
	b.WriteString("\nCommon flags:\n")
	writeFlags(&b, common)
	b.WriteString(`
Configuration, later wins: config files (--config, or $PUBSUB__SETTINGS), environment variables
(PUBSUB__<SECTION>__<KEY>, e.g. PUBSUB__SQS_CONSUMER__ENDPOINT_URL), flags. The AWS SDK's own
environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, credentials) applies as usual.

Exit status: 0 on success, 1 when the command fails, 2 for a bad command line.
`)
	return b.String()
}

func writeFlags(b *strings.Builder, flags []*flag.Flag) {
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	for _, f := range flags {
		arg, usage := flag.UnquoteUsage(f)
		left := "  --" + f.Name
		if arg != "" {
			left += " " + arg
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(b, "%-30s %s\n", left, usage)
	}
}

// globals are the flags every command has, and the configuration they lead to.
type globals struct {
	stderr   io.Writer // for --debug's SDK log
	input    fxconfig.Input
	endpoint string
	region   string
	profile  string
	yes      bool   // --yes, on commands that change data
	target   target // of the last client built
}

func (g *globals) bind(fs *flag.FlagSet) {
	fxconfig.BindFlags(fs, &g.input)
	if f := fs.Lookup("debug"); f != nil {
		f.Usage = "log every SNS/SQS request and response to stderr"
	}
	fs.StringVar(&g.endpoint, "endpoint-url", "", "SNS, SQS and S3 endpoint `URL`, e.g. an emulator (default: AWS_ENDPOINT_URL, else AWS)")
	fs.StringVar(&g.region, "region", "", "AWS `region` (default: AWS_REGION or the profile's)")
	fs.StringVar(&g.profile, "profile", "", "shared-config `profile` (default: AWS_PROFILE)")
}

// config loads the shared configuration (files, PUBSUB__ environment, --set).
func (g *globals) config() (fxpubsub.Config, error) {
	if t, _ := g.input.Flags["testing"].(bool); t {
		return fxpubsub.Config{}, usagef("--testing is not supported: pubsub commands always talk to SNS/SQS (use --endpoint-url for an emulator)")
	}
	if g.endpoint != "" {
		if u, err := url.Parse(g.endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fxpubsub.Config{}, usagef("--endpoint-url %q: want an absolute http or https URL, e.g. http://127.0.0.1:4566", g.endpoint)
		}
	}
	s, err := fxconfig.Load(g.input)
	if err != nil {
		return fxpubsub.Config{}, usagef("%v", err)
	}
	cfg, err := fxpubsub.LoadConfig(s)
	if err != nil {
		return fxpubsub.Config{}, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func (g *globals) awsConfig(ctx context.Context, o fxpubsub.AWSOptions) (aws.Config, error) {
	awsCfg, err := fxpubsub.LoadAWSConfig(ctx, o)
	if err != nil {
		return aws.Config{}, err
	}
	if awsCfg.Region == "" {
		return aws.Config{}, usagef("no AWS region: set AWS_REGION or pass --region (us-east-1 for the emulators)")
	}
	if debug, _ := g.input.Flags["debug"].(bool); debug && g.stderr != nil {
		var secrets []string
		if creds, err := awsCfg.Credentials.Retrieve(ctx); err == nil {
			secrets = append(secrets, creds.AccessKeyID)
		}
		awsCfg.ClientLogMode = aws.LogRequest | aws.LogResponse | aws.LogRetries
		awsCfg.Logger = redactingLogger{l: logging.NewStandardLogger(g.stderr), secrets: secrets}
	}
	g.target = target{cfg: awsCfg, endpoint: firstNonEmpty(o.EndpointURL, aws.ToString(awsCfg.BaseEndpoint))}
	return awsCfg, nil
}

// snsClient builds the SNS client: flags win over sns_producer settings.
func (g *globals) snsClient(ctx context.Context, cfg fxpubsub.Config) (*sns.Client, error) {
	o := fxpubsub.AWSOptions{
		EndpointURL: firstNonEmpty(g.endpoint, cfg.Producer.EndpointURL), Region: firstNonEmpty(g.region, cfg.Producer.RegionName),
		Profile: firstNonEmpty(g.profile, cfg.Producer.ProfileName), ConnectTimeout: cfg.Producer.ConnectTimeout,
		RequestTimeout: cfg.Producer.ReadTimeout, MaxAttempts: cfg.Producer.MaxAttempts,
	}
	awsCfg, err := g.awsConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	return sns.NewFromConfig(awsCfg, func(so *sns.Options) {
		if o.EndpointURL != "" {
			so.BaseEndpoint = aws.String(o.EndpointURL)
		}
	}), nil
}

// sqsClient builds the SQS client: flags win over sqs_consumer settings.
func (g *globals) sqsClient(ctx context.Context, cfg fxpubsub.Config) (*sqs.Client, error) {
	o := fxpubsub.AWSOptions{
		EndpointURL: firstNonEmpty(g.endpoint, cfg.Consumer.EndpointURL), Region: firstNonEmpty(g.region, cfg.Consumer.RegionName),
		Profile: firstNonEmpty(g.profile, cfg.Consumer.ProfileName), ConnectTimeout: cfg.Consumer.ConnectTimeout, MaxAttempts: cfg.Consumer.MaxAttempts,
	}
	awsCfg, err := g.awsConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	return sqs.NewFromConfig(awsCfg, func(so *sqs.Options) {
		if o.EndpointURL != "" {
			so.BaseEndpoint = aws.String(o.EndpointURL)
		}
	}), nil
}

// s3Client builds the S3 client of section large_payload: flags win over large_payload's settings,
// and those over the producer's (the endpoint also over the consumer's).
func (g *globals) s3Client(ctx context.Context, cfg fxpubsub.Config) (*s3.Client, error) {
	lp := cfg.LargePayload
	o := fxpubsub.AWSOptions{
		EndpointURL: firstNonEmpty(g.endpoint, lp.EndpointURL, cfg.Producer.EndpointURL, cfg.Consumer.EndpointURL),
		Region:      firstNonEmpty(g.region, lp.RegionName, cfg.Producer.RegionName),
		Profile:     firstNonEmpty(g.profile, lp.ProfileName, cfg.Producer.ProfileName), ConnectTimeout: cfg.Producer.ConnectTimeout,
		MaxAttempts: cfg.Producer.MaxAttempts,
	}
	awsCfg, err := g.awsConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	return fxpubsub.NewS3ClientFromConfig(awsCfg, o.EndpointURL, lp.ForcePathStyle), nil
}

// payloadStore is the large-message store of section large_payload, or nil when the section is
// off (no bucket and no trusted_buckets).
func (g *globals) payloadStore(ctx context.Context, cfg fxpubsub.Config) (*fxpubsub.PayloadStore, error) {
	if !cfg.LargePayload.Enabled() {
		return nil, nil
	}
	c, err := g.s3Client(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return fxpubsub.NewPayloadStoreFromConfig(c, cfg.LargePayload)
}

// resolveMediaType keeps a full media type and turns a bare resource name into created(name), as
// the original's write command did.
func resolveMediaType(mt string) string {
	if strings.HasPrefix(mt, "application") {
		return mt
	}
	return fxpubsub.Created(mt)
}

// kvFlag collects repeatable key=value flags.
type kvFlag map[string]string

func (f kvFlag) String() string { return "" }

func (f kvFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	f[strings.TrimSpace(k)] = v
	return nil
}

// listFlag collects repeatable values.
type listFlag []string

func (f *listFlag) String() string { return strings.Join(*f, ",") }

func (f *listFlag) Set(s string) error {
	*f = append(*f, s)
	return nil
}
