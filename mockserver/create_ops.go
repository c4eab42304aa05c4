package mockserver

import (
	"net/http"
	"path"
	"strconv"

	"github.com/morimock/morimock/order"
)

// The create answers, field for field in the docs' order (facts §3.2). A file's
// uploadUrl and originalFileUrl are omitted where the docs leave them out.
type (
	antiAiFile struct {
		FileID          string `json:"fileId"`
		FileName        string `json:"fileName"`
		UploadURL       string `json:"uploadUrl,omitempty"`
		FileKey         string `json:"fileKey,omitempty"`
		OriginalFileURL string `json:"originalFileUrl,omitempty"`
	}
	antiAiCreated struct {
		OrderName string       `json:"orderName"`
		OrderID   string       `json:"orderId"`
		Status    order.Status `json:"status"`
		Files     []antiAiFile `json:"files,omitempty"`
	}
	embedFile struct {
		FileID          int64  `json:"fileId"`
		FileName        string `json:"fileName"`
		UploadURL       string `json:"uploadUrl,omitempty"`
		OriginalFileURL string `json:"originalFileUrl,omitempty"`
		FileKey         string `json:"fileKey"`
		FileFormat      string `json:"fileFormat"`
		FileType        string `json:"fileType"`
	}
	embedCreated struct {
		OrderName string       `json:"orderName"`
		OrderID   string       `json:"orderId"`
		Status    order.Status `json:"status"`
		Files     []embedFile  `json:"files"`
	}
	extractFile struct {
		FileID       int64        `json:"fileId"`
		FileName     string       `json:"fileName"`
		UploadURL    string       `json:"uploadUrl"`
		FileKey      string       `json:"fileKey"`
		FileFormat   string       `json:"fileFormat"`
		FileType     string       `json:"fileType"`
		Role         string       `json:"role"`
		Sequence     int          `json:"sequence"`
		OriginalFile *extractFile `json:"originalFile,omitempty"`
	}
	extractCreated struct {
		OrderName string      `json:"orderName"`
		OrderID   string      `json:"orderId"`
		File      extractFile `json:"file"`
	}
	aiFile struct {
		FileID    int64  `json:"fileId"`
		FileName  string `json:"fileName"`
		UploadURL string `json:"uploadUrl"`
		FileKey   string `json:"fileKey"`
	}
	aiCreated struct {
		OrderID   string       `json:"orderId"`
		OrderName string       `json:"orderName"`
		Status    order.Status `json:"status"`
		File      aiFile       `json:"file"`
	}
)

const (
	imageFormats = "jpg, jpeg, png, webp, bmp, tiff"
	embedFormats = imageFormats + ", pdf"
)

// createAntiAI is POST /api/v2/orders/anti-ai: upload mode (pending until confirm) or,
// when every file has an originalFileUrl, URL mode (inProgress at once).
var createAntiAI = createOp{
	build: func(b *createBody, id string) (order.Record, *apiError) {
		rec := order.Record{ID: id, Type: order.AntiAI, Name: b.OrderName, Strength: "high"}
		if b.Options != nil && b.Options.Strength != "" {
			rec.Strength = b.Options.Strength
		}
		if b.Mode != nil && b.Mode.ZeroCopy && len(b.OutputTargets) != len(b.Files) {
			return rec, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "mode.zeroCopy needs outputTargets, one per file"}
		}
		for i, f := range b.Files {
			if _, _, ok := fileFormat(f.FileName); !ok {
				return rec, badFormat(f.FileName, imageFormats)
			}
			rec.Files = append(rec.Files, order.File{ID: int64(i + 1), Name: f.FileName, Key: keyAntiAI(id, i, f.FileName), SourceURL: f.OriginalFileURL})
		}
		return rec, nil
	},
	render: func(s *Server, r *http.Request, rec order.Record) any {
		out := antiAiCreated{OrderName: rec.Name, OrderID: rec.ID, Status: order.Pending}
		if order.StartsAtCreate(&rec) {
			out.Status = order.InProgress
		}
		for _, f := range rec.Files {
			af := antiAiFile{FileID: strconv.FormatInt(f.ID, 10), FileName: f.Name}
			if f.SourceURL != "" {
				af.OriginalFileURL = f.SourceURL
			} else {
				af.UploadURL, af.FileKey = s.uploadURL(r, s.sb, &rec, f.Key, rec.CreatedAt), f.Key
			}
			out.Files = append(out.Files, af)
		}
		return out
	},
}

// createAntiAIWithURLs is the deprecated POST /api/v2/orders/anti-ai/with-urls: every
// file from a URL, inProgress at once, an answer without files.
var createAntiAIWithURLs = createOp{
	build: func(b *createBody, id string) (order.Record, *apiError) {
		for i := range b.Files {
			b.Files[i].OriginalFileURL = b.Files[i].ImageURL
		}
		return createAntiAI.build(b, id)
	},
	render: func(s *Server, r *http.Request, rec order.Record) any {
		return antiAiCreated{OrderName: rec.Name, OrderID: rec.ID, Status: order.InProgress}
	},
}

// createEmbed is POST /api/v2/orders/wtr-embed: pending, starting by itself once
// every file is uploaded (files from a URL count as uploaded).
var createEmbed = createOp{
	successor: "/api/v3/orders/wtr-embed",
	build: func(b *createBody, id string) (order.Record, *apiError) {
		rec := order.Record{ID: id, Type: order.WatermarkEmbed}
		for i, f := range b.Files {
			format, kind, ok := fileFormat(f.FileName)
			if !ok {
				return rec, badFormat(f.FileName, embedFormats)
			}
			folder := "images"
			if kind == "DOCUMENT" {
				folder = "documents"
			}
			file := order.File{ID: int64(i + 1), Name: f.FileName, Format: format, FileType: kind, SourceURL: f.OriginalFileURL,
				Key: "wtr-embed/" + id + "/" + folder + "/" + strconv.Itoa(i+1) + "/" + path.Base(f.FileName)}
			for _, wm := range f.Watermarks {
				file.Watermarks = append(file.Watermarks, wm.Text)
			}
			rec.Files = append(rec.Files, file)
		}
		return rec, nil
	},
	render: func(s *Server, r *http.Request, rec order.Record) any {
		out := embedCreated{OrderName: rec.Name, OrderID: rec.ID, Status: order.Pending, Files: []embedFile{}}
		for _, f := range rec.Files {
			ef := embedFile{FileID: f.ID, FileName: f.Name, FileKey: f.Key, FileFormat: f.Format, FileType: f.FileType}
			if f.SourceURL != "" {
				ef.OriginalFileURL = f.SourceURL
			} else {
				ef.UploadURL = s.uploadURL(r, s.sb, &rec, f.Key, rec.CreatedAt)
			}
			out.Files = append(out.Files, ef)
		}
		return out
	},
}

// createExtract is POST /api/v2/orders/wtr-extract: one watermarked image (and its
// original, with includeOriginal), starting by itself once uploaded.
var createExtract = createOp{
	successor: "/api/v3/orders/wtr-extract",
	build: func(b *createBody, id string) (order.Record, *apiError) {
		rec := order.Record{ID: id, Type: order.WatermarkExtract}
		if b.File == nil {
			return rec, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "file is required"}
		}
		names := []string{b.File.FileName}
		switch _, kind, _ := fileFormat(b.File.FileName); {
		case b.File.IncludeOriginal && b.File.OriginalFile == nil:
			return rec, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "file.originalFile is required with includeOriginal"}
		case !b.File.IncludeOriginal && b.File.OriginalFile != nil:
			return rec, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "file.originalFile is only taken with includeOriginal: true"}
		case b.File.IncludeOriginal && kind == "DOCUMENT":
			return rec, &apiError{status: http.StatusBadRequest, code: codeValidationFailed, detail: "includeOriginal is for images, not PDFs"}
		case b.File.IncludeOriginal:
			names = append(names, b.File.OriginalFile.FileName)
		}
		for i, name := range names {
			format, kind, ok := fileFormat(name)
			if !ok {
				return rec, badFormat(name, embedFormats)
			}
			role := "watermarked"
			if i == 1 {
				role = "original"
				if kind != "IMG" {
					return rec, badFormat(name, imageFormats+" (an original is an image)")
				}
			}
			rec.Files = append(rec.Files, order.File{ID: int64(i + 1), Name: name, Format: format, FileType: kind, Role: role, Sequence: 1,
				Key: "wtr-extract/" + id + "/" + role + "/" + path.Base(name)})
		}
		return rec, nil
	},
	render: func(s *Server, r *http.Request, rec order.Record) any {
		files := make([]extractFile, len(rec.Files))
		for i, f := range rec.Files {
			files[i] = extractFile{FileID: f.ID, FileName: f.Name, UploadURL: s.uploadURL(r, s.sb, &rec, f.Key, rec.CreatedAt), FileKey: f.Key,
				FileFormat: f.Format, FileType: f.FileType, Role: f.Role, Sequence: f.Sequence}
		}
		out := extractCreated{OrderName: rec.Name, OrderID: rec.ID, File: files[0]}
		if len(files) > 1 {
			out.File.OriginalFile = &files[1]
		}
		return out
	},
}

// createAIDetection is POST /api/v2/orders/ai-detection: one image, pending until
// uploaded and confirmed.
var createAIDetection = createOp{
	build: func(b *createBody, id string) (order.Record, *apiError) {
		rec := order.Record{ID: id, Type: order.AIDetection, Name: b.OrderName, Options: &order.Options{}}
		if _, kind, ok := fileFormat(b.FileName); !ok || kind != "IMG" {
			return rec, badFormat(b.FileName, imageFormats)
		}
		if o := b.Options; o != nil {
			rec.Options = &order.Options{GenerateHeatmap: o.GenerateHeatmap, GenerateOverlay: o.GenerateOverlay, GenerateThumbnail: o.GenerateThumbnail}
		}
		rec.Files = []order.File{{ID: 1, Name: b.FileName, Key: "ai-detection/" + id + "/1/" + path.Base(b.FileName)}}
		return rec, nil
	},
	render: func(s *Server, r *http.Request, rec order.Record) any {
		f := rec.Files[0]
		return aiCreated{OrderID: rec.ID, OrderName: rec.Name, Status: order.Pending,
			File: aiFile{FileID: f.ID, FileName: f.Name, UploadURL: s.uploadURL(r, s.sb, &rec, f.Key, rec.CreatedAt), FileKey: f.Key}}
	},
}

// markFetched counts the files that come from a URL as uploaded when the order is
// made: the vendor fetches them itself.
func markFetched(rec *order.Record) {
	for i := range rec.Files {
		if rec.Files[i].SourceURL != "" {
			rec.Files[i].UploadedAt = &rec.CreatedAt
		}
	}
}
