package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/morimock/morimock/webhook"
)

const webhookUsage = `Usage:
  morimock webhook send --url URL [--secret S | --secret-file F] --event TYPE [--order ID]
      POST one signed, realistic event to a receiver (no order flow needed)
  morimock webhook verify [--secret S | --secret-file F] --signature SIG [--body-file F]
      check a body (F, or standard input) against its X-MoriBiz-Signature

The secret comes from --secret, else the file --secret-file names, else the
environment variable ` + secretEnv + `. A flag is visible to every user
of the machine (ps) and lands in shell history: prefer the file or the variable.
`

// secretEnv holds the webhook secret when neither --secret nor --secret-file is given.
const secretEnv = "BIZMORI_WEBHOOK_SECRET"

// secretFlags adds --secret and --secret-file to fs; the returned function gives the
// secret from them or from secretEnv, in that order.
func secretFlags(fs *flag.FlagSet, getenv func(string) string) func() (string, error) {
	secret := fs.String("secret", "", "the webhook secret, whsec_... (visible in ps: prefer --secret-file or $"+secretEnv+")")
	file := fs.String("secret-file", "", "a file holding the webhook secret (one line)")
	return func() (string, error) {
		switch {
		case *secret != "":
			return *secret, nil
		case *file != "":
			b, err := os.ReadFile(*file)
			if err != nil {
				return "", fmt.Errorf("read the secret: %w", err)
			}
			s := strings.TrimSpace(string(b))
			if s == "" || strings.ContainsAny(s, "\r\n") {
				return "", fmt.Errorf("--secret-file %s: want the secret alone on one line", *file)
			}
			return s, nil
		case getenv(secretEnv) != "":
			return getenv(secretEnv), nil
		}
		return "", errors.New("the secret is required: --secret-file F, $" + secretEnv + " or --secret")
	}
}

// eventTypes are the eight the current guide lists (C12).
var eventTypes = []string{
	"order.antiAi.completed", "order.antiAi.failed",
	"order.watermarkEmbed.completed", "order.watermarkEmbed.failed",
	"order.watermarkExtract.completed", "order.watermarkExtract.failed",
	"order.aiDetection.completed", "order.aiDetection.failed",
}

func runWebhook(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, webhookUsage)
		return &exitError{code: 2}
	}
	switch args[0] {
	case "send":
		return runWebhookSend(ctx, args[1:], getenv, stdout, stderr)
	case "verify":
		return runWebhookVerify(args[1:], getenv, stdin, stdout, stderr)
	}
	fmt.Fprint(stderr, webhookUsage)
	return &exitError{code: 2, err: fmt.Errorf("unknown webhook command %q", args[0])}
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: 2, err: err}
	}
	return nil
}

// sampleEvent is a realistic body of the event type, as the guide documents it.
func sampleEvent(typ, orderID string, now time.Time) ([]byte, error) {
	parts := strings.Split(typ, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("event %q: want one of %s", typ, strings.Join(eventTypes, ", "))
	}
	known := false
	for _, t := range eventTypes {
		known = known || t == typ
	}
	if !known {
		return nil, fmt.Errorf("event %q: want one of %s", typ, strings.Join(eventTypes, ", "))
	}
	kind, status := parts[1], parts[2]
	at := now.UTC().Format("2006-01-02T15:04:05.000Z")
	created := now.Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.000Z")
	names := map[string]string{"antiAi": "anti_ai_", "watermarkEmbed": "wtr_embed_", "watermarkExtract": "wtr_extract_", "aiDetection": "ai_detection_"}
	data := map[string]any{"orderId": orderID, "orderName": names[kind] + now.UTC().Format("2006-01-02"), "createdAt": created, "updatedAt": at}
	if status == "failed" {
		data["failedAt"], data["status"] = at, "failed"
		data["errorCode"], data["errorMessage"] = "PROCESSING_ERROR", "the image could not be processed"
	} else {
		data["completedAt"], data["status"] = at, "complete"
		switch kind {
		case "antiAi", "watermarkEmbed":
			data["fileCount"], data["downloadUrl"] = 1, "https://s3.amazonaws.com/bizmori-results/"+orderID+"/result.jpg"
		case "watermarkExtract":
			data["statusCode"], data["watermarkFound"], data["watermarkInfo"] = "detected", true, map[string]string{"text": "MORI-WTR-001"}
		case "aiDetection":
			data["probability"], data["heatmapUrl"], data["overlayUrl"] = 0.92, nil, nil
		}
	}
	var id [16]byte
	rand.Read(id[:])
	id[6], id[8] = id[6]&0x0f|0x40, id[8]&0x3f|0x80
	return json.Marshal(map[string]any{
		"eventId":    fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:]),
		"eventType":  typ,
		"occurredAt": at,
		"data":       data,
	})
}

func runWebhookSend(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("webhook send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "", "the receiver's URL (required)")
	secretOf := secretFlags(fs, getenv)
	event := fs.String("event", "order.antiAi.completed", "the event type: "+strings.Join(eventTypes, ", "))
	orderID := fs.String("order", "123456789", "the orderId in the event")
	timeout := fs.Duration("timeout", 5*time.Second, "how long the receiver has to answer (the vendor's: 5s)")
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	u, err := url.Parse(*target)
	if *target == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &exitError{code: 2, err: errors.New("webhook send: --url must be an http or https URL")}
	}
	secret, err := secretOf()
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("webhook send: %w", err)}
	}
	body, err := sampleEvent(*event, *orderID, time.Now())
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("webhook send: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *target, strings.NewReader(string(body)))
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("webhook send: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, body))
	client := &http.Client{Timeout: *timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	fmt.Fprintf(stdout, "POST %s\n%s: %s\n%s\n", *target, webhook.SignatureHeader, req.Header.Get(webhook.SignatureHeader), body)
	res, err := client.Do(req)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("webhook send: no answer: %w", err)}
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
	fmt.Fprintf(stdout, "answered %s\n", res.Status)
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return &exitError{code: 1, err: fmt.Errorf("webhook send: the receiver answered %s; the sandbox would retry", res.Status)}
	}
	return nil
}

func runWebhookVerify(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("webhook verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	secretOf := secretFlags(fs, getenv)
	sig := fs.String("signature", "", "the X-MoriBiz-Signature value (required)")
	file := fs.String("body-file", "", "the raw body, byte for byte (default: standard input)")
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *sig == "" {
		return &exitError{code: 2, err: errors.New("webhook verify: --signature is required")}
	}
	secret, err := secretOf()
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("webhook verify: %w", err)}
	}
	var body []byte
	if *file != "" {
		body, err = os.ReadFile(*file)
	} else {
		body, err = io.ReadAll(io.LimitReader(stdin, webhook.MaxBody+1))
	}
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("webhook verify: read the body: %w", err)}
	}
	if webhook.Verify(secret, body, strings.TrimSpace(*sig)) {
		fmt.Fprintln(stdout, "valid: the signature matches the body")
		return nil
	}
	// Not the signature it expected: printed in a CI log, that would sign any body a
	// stranger got verified. What tells the two usual mistakes apart is safe to show:
	// which secret (its last four characters, as the API masks it) and which bytes.
	sum := sha256.Sum256(body)
	fmt.Fprintf(stdout, "INVALID: the signature does not match (secret ending %q, body of %d bytes with SHA-256 %x...; check the secret, the whole whsec_ string, and that the body is the raw bytes received)\n", secretTail(secret), len(body), sum[:6])
	return &exitError{code: 1}
}

// secretTail is the last four characters of a secret, as the API shows a webhook's
// (whsec_****12a8), or nothing of one too short to keep any of it hidden.
func secretTail(secret string) string {
	if len(secret) < 16 {
		return ""
	}
	return secret[len(secret)-4:]
}
