package mockserver

import (
	"archive/zip"
	"cmp"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/morimock/morimock/mockserver/files"
	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// The presigned endpoints are served before the contract's router: their bodies are
// streamed to storage, never read whole for validation, and they carry no
// Authorization (the URL is the credential).

// handleFiles serves PUT and GET of S3-style presigned URLs, answering errors as S3
// does (XML).
func (s *Server) handleFiles(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(HeaderSource, "sandbox")
	if r.Method != http.MethodPut && r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, PUT")
		files.WriteS3Error(w, http.StatusMethodNotAllowed, files.CodeMethodNotAllowed, "The specified method is not allowed against this resource.", "")
		return
	}
	key, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), files.FilesPath))
	if err != nil {
		files.WriteS3Error(w, http.StatusBadRequest, files.CodeAuthorizationQuery, "The key is not valid percent-encoding.", "")
		return
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	sb, err := s.sandbox(r.Context())
	if err != nil {
		s.internalS3(w, err)
		return
	}
	g, err := sb.signer.CheckS3(method, key, r.URL.Query())
	switch {
	case errors.Is(err, files.ErrMalformed):
		files.WriteS3Error(w, http.StatusBadRequest, files.CodeAuthorizationQuery, "Query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-Expires and X-Amz-SignedHeaders parameters.", key)
		return
	case err != nil:
		files.WriteS3Error(w, http.StatusForbidden, files.CodeSignatureDoesNotMatch, "The request signature we calculated does not match the signature you provided.", key)
		return
	}
	now, err := s.clock(r.Context(), sb, g.Tenant)
	if err != nil {
		s.internalS3(w, err)
		return
	}
	if g.Expired(now) {
		files.WriteS3Error(w, http.StatusForbidden, files.CodeAccessDenied, "Request has expired", key)
		return
	}
	if method == http.MethodGet {
		s.serveBlob(w, r, sb, g, now)
		return
	}
	if r.ContentLength < 0 {
		// A body of unknown length (chunked): S3 refuses a single PUT without its
		// size, so a client that streams its upload learns it here, not in production.
		files.WriteS3Error(w, http.StatusLengthRequired, files.CodeMissingContentLength, "You must provide the Content-Length HTTP header.", key)
		return
	}
	if r.ContentLength > s.cfg.MaxUploadBytes {
		files.WriteS3Error(w, http.StatusBadRequest, files.CodeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size", key)
		return
	}
	slowUpload(w, r)
	sum := md5.New() // S3's ETag of a single-part upload is the MD5 of its bytes
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(r.Body, sum), r.Body}
	switch _, e := s.upload(r.Context(), sb, g, r, s.cfg.MaxUploadBytes, now); {
	case errors.Is(e, store.ErrTooLarge):
		files.WriteS3Error(w, http.StatusBadRequest, files.CodeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size", key)
	case errors.Is(e, errNoUploadTarget):
		files.WriteS3Error(w, http.StatusNotFound, files.CodeNoSuchKey, "The order of this upload URL no longer exists.", key)
	case errors.Is(e, errNotPending):
		files.WriteS3Error(w, http.StatusForbidden, files.CodeAccessDenied, "The order is no longer pending; it takes no uploads.", key)
	case cutShort(e):
		files.WriteS3Error(w, http.StatusBadRequest, files.CodeIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header.", key)
	case timedOut(e):
		files.WriteS3Error(w, http.StatusBadRequest, files.CodeRequestTimeout, "Your socket connection to the server was not read from or written to within the timeout period.", key)
	case e != nil:
		s.internalS3(w, e)
	default:
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum.Sum(nil))+`"`)
		w.WriteHeader(http.StatusOK)
	}
}

// handleTestUpload serves PUT /api/v2/test-uploads/{signedToken}, the vendor's
// upload URL for test keys, answering errors as the API does (JSON codes).
func (s *Server) handleTestUpload(w http.ResponseWriter, r *http.Request, asked *askedAnswer) {
	if r.Method != http.MethodPut {
		s.fail(w, &apiError{status: http.StatusMethodNotAllowed, code: codeMethodNotAllowed, allow: "PUT", detail: "test-upload URLs take PUT"})
		return
	}
	sb, err := s.sandbox(r.Context())
	if err != nil {
		s.internal(w, err)
		return
	}
	token := strings.TrimPrefix(r.URL.EscapedPath(), files.TestUploadsPath)
	g, err := sb.signer.CheckTestUpload(token)
	if err != nil {
		s.fail(w, &apiError{status: http.StatusUnauthorized, code: codeTokenInvalid, detail: "the test-upload token is not one this sandbox signed (" + err.Error() + ")"})
		return
	}
	now, err := s.clock(r.Context(), sb, g.Tenant)
	if err != nil {
		s.internal(w, err)
		return
	}
	if g.Expired(now) {
		s.fail(w, &apiError{status: http.StatusUnauthorized, code: codeTokenExpired, detail: "the test-upload URL has expired (it lives one hour); POST /api/v2/orders/{orderId}/refresh-urls for a new one"})
		return
	}
	if asked != nil { // Prefer: code, once the token is known good
		s.sendAsked(w, asked)
		return
	}
	slowUpload(w, r)
	limit := cmp.Or(s.cfg.testUploadLimit, TestUploadLimit)
	tooLarge := &apiError{status: http.StatusRequestEntityTooLarge, code: codeTestUploadTooLarge, detail: "test uploads are at most 50 MiB"}
	if r.ContentLength > limit { // said up front: refused before a byte is read
		s.fail(w, tooLarge)
		return
	}
	switch _, e := s.upload(r.Context(), sb, g, r, limit, now); {
	case errors.Is(e, store.ErrTooLarge): // counted as it came
		s.fail(w, tooLarge)
	case errors.Is(e, errNoUploadTarget):
		s.fail(w, &apiError{status: http.StatusNotFound, code: codeOrderNotFound, detail: "the order of this upload URL no longer exists"})
	case errors.Is(e, errNotPending):
		s.fail(w, &apiError{status: http.StatusBadRequest, code: codeOrderNotPending, detail: "the order is no longer pending; it takes no uploads"})
	case cutShort(e):
		s.fail(w, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "the upload ended before the bytes its Content-Length announced"})
	case timedOut(e):
		s.fail(w, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: fmt.Sprintf("the upload stopped coming for %s", uploadIdle)})
	case e != nil:
		s.internal(w, e)
	default:
		w.Header().Set(HeaderSource, "sandbox")
		w.WriteHeader(http.StatusOK)
	}
}

// uploadIdle is how long an upload may go without a byte arriving before it is cut.
// The server's read timeout bounds a whole request (10 s by default) because an API
// request is small; a file of up to 100 MiB on a slow link takes minutes, and storage
// services let it, so an upload's deadlines follow its bytes instead.
const uploadIdle = 30 * time.Second

// slowUpload lets r's body take as long as its bytes keep coming: each read moves the
// connection's read deadline uploadIdle ahead, and its write deadline (for the answer)
// with it. A server that cannot set deadlines (a test's recorder) keeps its own.
func slowUpload(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
}

type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	last time.Time // when the deadlines last moved
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	// Moving a deadline updates a runtime timer: once a second is often enough.
	if now := time.Now(); now.Sub(b.last) >= time.Second {
		b.last = now
		_ = b.rc.SetReadDeadline(now.Add(uploadIdle))
		_ = b.rc.SetWriteDeadline(now.Add(2 * uploadIdle))
	}
	return b.ReadCloser.Read(p)
}

// cutShort reports whether reading a request's body (an upload, or an API request's
// JSON) failed because its client ended it before the length it announced (a dropped
// connection): the client's fault, not the sandbox's.
func cutShort(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF)
}

// timedOut reports whether reading a request's body failed because its bytes stopped
// coming (an upload's after uploadIdle, another's at the server's read timeout).
func timedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

var (
	errNoUploadTarget = errors.New("no such order or file")
	errNotPending     = errors.New("order not pending")
)

// upload streams the body to a fresh blob of its own, then records the upload on the
// order, making that blob the file's bytes; a watermark order whose files are now all
// uploaded starts processing. The file's bytes change only inside the record update,
// which refuses an order that was confirmed or started whatever the clock reads now,
// so an upload never replaces what an order was confirmed with; a refused or failed
// upload's blob is deleted, and so is the blob it replaced.
func (s *Server) upload(ctx context.Context, sb *sandbox, g files.Grant, r *http.Request, max int64, now time.Time) (int64, error) {
	id := orderIDOfKey(g.Key)
	rec, err := sb.store.GetOrder(ctx, g.Tenant, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && fileIndex(&rec, g.Key) < 0) {
		return 0, errNoUploadTarget
	}
	if err != nil {
		return 0, err
	}
	if !order.TakesUploads(&rec, now) {
		return 0, errNotPending
	}
	blob, err := newInputBlob(&rec, fileIndex(&rec, g.Key))
	if err != nil {
		return 0, err
	}
	// A small upload of a declared length is read whole and stored with the order's
	// update in one commit (on disk, one fsync instead of two); any other streams to
	// its blob first.
	var inline []store.NamedBlob
	var n int64
	if r.ContentLength >= 0 && r.ContentLength <= min(max, inlineUpload) {
		data := make([]byte, r.ContentLength) // read at once into its size: no growing copies
		if _, err := io.ReadFull(r.Body, data); err != nil {
			return 0, err
		}
		inline, n = []store.NamedBlob{{Key: blob, Data: data}}, int64(len(data))
	} else if n, err = sb.store.PutBlob(ctx, blob, r.Body, max); err != nil {
		return 0, err
	}
	ctype := r.Header.Get("Content-Type")
	var replaced string
	rec, err = sb.store.UpdateOrderBlobs(ctx, g.Tenant, id, inline, func(rec *order.Record) error {
		i := fileIndex(rec, g.Key)
		if i < 0 {
			return errNoUploadTarget
		}
		if !order.TakesUploads(rec, now) {
			return errNotPending
		}
		at := now
		f := &rec.Files[i]
		replaced = f.Blob
		f.UploadedAt, f.Size, f.ContentType, f.Blob = &at, n, ctype, blob
		if !order.NeedsConfirm(rec.Type) && rec.AllUploaded() {
			rec.StartedAt = &at // watermark orders need no confirm
		}
		return nil
	})
	if err != nil {
		// Nothing refers to the new blob: it goes (a reset or expiry meanwhile
		// would have left it on disk forever).
		if derr := sb.store.DeleteBlobs(context.WithoutCancel(ctx), blob); derr != nil {
			s.log.Warn("delete a refused upload", "err", derr)
		}
		if errors.Is(err, store.ErrNotFound) {
			return 0, errNoUploadTarget
		}
		return 0, err
	}
	if replaced != "" && replaced != blob {
		if derr := sb.store.DeleteBlobs(context.WithoutCancel(ctx), replaced); derr != nil {
			s.log.Warn("delete a replaced upload", "err", derr)
		}
	}
	s.orderChanged(ctx, sb, baseURL(r), rec)
	s.kickIfDue(sb, &rec, now)
	return n, nil
}

// inlineUpload is the largest upload stored with its order's update in one commit:
// what the stores keep inside their own records rather than as files.
const inlineUpload = 256 << 10

// newInputBlob is a fresh storage key for an upload of file i: under the order's
// prefix (so expiry and reset delete it with the rest), named by the file's index and
// random bytes, never by the file's name.
func newInputBlob(rec *order.Record, i int) (string, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("draw a blob key: %w", err)
	}
	return store.OrderBlobPrefix(rec.Tenant, rec.ID) + blobInput + strconv.Itoa(i) + "-" + hex.EncodeToString(rnd[:]), nil
}

// inputBlob is the storage key of file i's bytes: its upload, the copy of a URL-mode
// file the sandbox fetched, or (for a record stored before uploads had keys of their
// own) the file key.
func inputBlob(rec *order.Record, i int) string {
	f := &rec.Files[i]
	switch {
	case f.Blob != "":
		return f.Blob
	case f.SourceURL != "":
		return store.OrderBlobPrefix(rec.Tenant, rec.ID) + blobSource + strconv.Itoa(i)
	}
	return f.Key
}

func fileIndex(rec *order.Record, key string) int {
	for i := range rec.Files {
		if rec.Files[i].Key == key {
			return i
		}
	}
	return -1
}

// serveBlob answers a presigned GET as a storage service does (http.ServeContent:
// Content-Type, Content-Length, ETag, Last-Modified, Range, conditional requests),
// naming the file in Content-Disposition: an input as uploaded, an order's output, or
// a result of several files as a zip made as it is sent.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, sb *sandbox, g files.Grant, now time.Time) {
	ctx := r.Context()
	rec, err := sb.store.GetOrder(ctx, g.Tenant, orderIDOfKey(g.Key))
	if err != nil || rec.StatusAt(now) == order.Expired { // an expired order's files are deleted (Sweep)
		files.WriteS3Error(w, http.StatusNotFound, files.CodeNoSuchKey, "The specified key does not exist.", g.Key)
		return
	}
	prefix := store.OrderBlobPrefix(rec.Tenant, rec.ID)
	name := strings.TrimPrefix(g.Key, prefix)
	if name == blobResultZip && strings.HasPrefix(g.Key, prefix) {
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", disposition("attachment", rec.ID+".zip"))
		zw := zip.NewWriter(w)
		for i, f := range rec.Files {
			fw, err := zw.CreateHeader(&zip.FileHeader{Name: strconv.FormatInt(f.ID, 10) + "_" + outputName(&f), Method: zip.Store, Modified: now})
			if err != nil {
				return // the client went away
			}
			if err := s.copyBlob(ctx, sb, fw, prefix+blobOutput+strconv.Itoa(i)); err != nil {
				return
			}
		}
		zw.Close()
		return
	}
	var file, ctype, disp string
	switch {
	case !strings.HasPrefix(g.Key, prefix):
		i := fileIndex(&rec, g.Key)
		if i < 0 {
			files.WriteS3Error(w, http.StatusNotFound, files.CodeNoSuchKey, "The specified key does not exist.", g.Key)
			return
		}
		f := &rec.Files[i]
		file, ctype, disp = path.Base(f.Name), files.ContentType(formatOf(f)), "inline"
		// The uploader's type is kept only when it names a file's type: curl's
		// --data-binary sends application/x-www-form-urlencoded, which would make a
		// browser download the photo instead of showing it.
		if ct := f.ContentType; strings.HasPrefix(ct, "image/") || strings.HasPrefix(ct, "application/pdf") {
			ctype = ct
		}
	case strings.HasPrefix(name, blobOutput):
		i, err := strconv.Atoi(strings.TrimPrefix(name, blobOutput))
		if err != nil || i < 0 || i >= len(rec.Files) {
			files.WriteS3Error(w, http.StatusNotFound, files.CodeNoSuchKey, "The specified key does not exist.", g.Key)
			return
		}
		f := &rec.Files[i]
		file, ctype, disp = outputName(f), files.ContentType(files.OutputFormat(formatOf(f))), "attachment"
	default: // thumbnail.png, heatmap.png, overlay.png
		file, ctype, disp = rec.ID+"_"+name, "image/png", "inline"
	}
	blob := g.Key
	if !strings.HasPrefix(g.Key, prefix) {
		blob = inputBlob(&rec, fileIndex(&rec, g.Key))
	}
	b, err := sb.store.OpenBlob(ctx, blob)
	if errors.Is(err, store.ErrNotFound) { // not made yet (the order is in progress) or never
		files.WriteS3Error(w, http.StatusNotFound, files.CodeNoSuchKey, "The specified key does not exist.", g.Key)
		return
	}
	if err != nil {
		s.internalS3(w, err)
		return
	}
	defer b.Close()
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", disposition(disp, file))
	// A blob is replaced whole (a rename), so its size and time identify its bytes.
	h.Set("ETag", fmt.Sprintf(`"%x-%x"`, b.Size(), b.ModTime().UnixNano()))
	http.ServeContent(w, r, file, b.ModTime(), b)
}

// disposition is a Content-Disposition naming a file, in ASCII and in UTF-8.
func disposition(kind, name string) string {
	if v := mime.FormatMediaType(kind, map[string]string{"filename": name}); v != "" {
		return v
	}
	return kind
}

// outputName is the name of a file's processed copy: its own, with .png for a WebP
// (the copy is a PNG; see files.OutputFormat).
func outputName(f *order.File) string {
	name := path.Base(f.Name)
	if formatOf(f) == files.WEBP {
		name = strings.TrimSuffix(name, path.Ext(name)) + ".png"
	}
	return name
}

func (s *Server) copyBlob(ctx context.Context, sb *sandbox, dst io.Writer, key string) error {
	b, err := sb.store.OpenBlob(ctx, key)
	if err != nil {
		return err
	}
	defer b.Close()
	_, err = io.Copy(dst, b)
	return err
}
