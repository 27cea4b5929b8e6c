package csar

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
)

// archive/zip's NewReader parses the whole central directory into memory
// before anyone can look at it: about 250 bytes per entry, so a 22 MB
// package of 200,000 empty members costs 50 MB of heap only to be refused
// for having more than MaxEntries of them. zipDirectoryEntries counts the
// directory's headers first, streaming, in a few KiB, so that Open refuses
// such an archive without parsing it. The count is of the headers actually
// there, not the end record's declared total, which a hostile archive can
// set to anything (archive/zip only checks it modulo 65536).

const (
	zipEndSig       = "PK\x05\x06"
	zipEnd64Sig     = "PK\x06\x06"
	zipEnd64LocSig  = "PK\x06\x07"
	zipEndLen       = 22
	zipEnd64LocLen  = 20
	zipCentralLen   = 46
	zipMaxCommentsz = 65535
)

// zipDirectoryEntries returns how many central directory headers the zip
// in r holds, counting at most limit+1 of them. ok is false when the end
// records cannot be found or the directory does not start where they say
// (prepended data, corruption): the caller then leaves the verdict to
// archive/zip.
func zipDirectoryEntries(r io.ReaderAt, size int64, limit int) (n int, ok bool) {
	dirOff, dirSize, ok := zipDirectoryBounds(r, size)
	if !ok || dirOff < 0 || dirSize < 0 || dirOff > size || dirSize > size-dirOff {
		return 0, false
	}
	br := bufio.NewReaderSize(io.NewSectionReader(r, dirOff, dirSize), 32<<10)
	var fixed [zipCentralLen]byte
	le := binary.LittleEndian
	for n <= limit {
		if _, err := io.ReadFull(br, fixed[:]); err != nil {
			return n, err == io.EOF
		}
		if string(fixed[:4]) != zipCentralSig {
			return n, n > 0 // the directory ends (a digital signature record may follow)
		}
		n++
		skip := int(le.Uint16(fixed[28:])) + int(le.Uint16(fixed[30:])) + int(le.Uint16(fixed[32:]))
		if _, err := br.Discard(skip); err != nil {
			return n, false
		}
	}
	return n, true
}

// zipDirectoryBounds reads the end of central directory record (and its
// zip64 form when the fields overflow) for the directory's offset and size.
func zipDirectoryBounds(r io.ReaderAt, size int64) (off, length int64, ok bool) {
	// Most archives have no comment: the end record is the last 22 bytes.
	// Only otherwise is the comment's whole possible span searched, so that
	// no member's bytes are read for nothing (onboarding counts the reads).
	tail, i := zipEndRecord(r, size, zipEndLen)
	if i < 0 {
		tail, i = zipEndRecord(r, size, zipEndLen+zipMaxCommentsz)
	}
	if i < 0 {
		return 0, 0, false
	}
	le := binary.LittleEndian
	end := tail[i:]
	length, off = int64(le.Uint32(end[12:])), int64(le.Uint32(end[16:]))
	if length != 0xFFFFFFFF && off != 0xFFFFFFFF && le.Uint16(end[10:]) != 0xFFFF {
		return off, length, true
	}
	// zip64: the locator sits right before the end record.
	endAt := size - int64(len(tail)) + int64(i)
	if endAt < zipEnd64LocLen {
		return 0, 0, false
	}
	var loc [zipEnd64LocLen]byte
	if _, err := r.ReadAt(loc[:], endAt-zipEnd64LocLen); err != nil || string(loc[:4]) != zipEnd64LocSig {
		return 0, 0, false
	}
	var rec [56]byte
	recAt := int64(le.Uint64(loc[8:]))
	if recAt < 0 || recAt > size-int64(len(rec)) {
		return 0, 0, false
	}
	if _, err := r.ReadAt(rec[:], recAt); err != nil || string(rec[:4]) != zipEnd64Sig {
		return 0, 0, false
	}
	return int64(le.Uint64(rec[48:])), int64(le.Uint64(rec[40:])), true
}

// zipEndRecord reads the last n bytes of r (fewer if r is shorter) and
// returns them with the index of the last end record in them, or -1.
func zipEndRecord(r io.ReaderAt, size int64, n int64) ([]byte, int) {
	n = min(size, n)
	tail := make([]byte, n)
	if _, err := r.ReadAt(tail, size-n); err != nil && err != io.EOF {
		return nil, -1
	}
	i := bytes.LastIndex(tail, []byte(zipEndSig))
	if i < 0 || len(tail)-i < zipEndLen {
		return nil, -1
	}
	return tail, i
}
