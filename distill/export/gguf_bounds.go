package export

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// checkGGUFBounds walks a GGUF file's header (metadata and tensor infos)
// before the ggml decoder does, and refuses any string, array or tensor count
// that the file is too short to hold. The decoder allocates what a length
// field says: a corrupt length asked it for terabytes, a fatal out-of-memory
// that no recover catches.
func checkGGUFBounds(r io.Reader, size int64) error {
	br := &boundedReader{r: bufio.NewReader(r), left: size}
	magic := make([]byte, 4)
	if err := br.read(magic); err != nil {
		return err
	}
	switch string(magic) {
	case "GGUF":
		br.order = binary.LittleEndian
	case "FUGG":
		br.order = binary.BigEndian
	default:
		return nil // not a GGUF: the decoder says so
	}
	version, err := br.u32()
	if err != nil {
		return err
	}
	if version == 1 {
		// 32-bit lengths; llama.cpp has not written it since 2023.
		return errors.New("gguf version 1 is not supported: convert the model again")
	}
	nTensors, err := br.u64()
	if err != nil {
		return err
	}
	nKV, err := br.u64()
	if err != nil {
		return err
	}
	// A key-value pair takes at least 12 bytes and a tensor info 24.
	if nKV > uint64(br.left)/12 || nTensors > uint64(br.left)/24 {
		return fmt.Errorf("corrupt gguf header: %d key-value pairs and %d tensors in a %d-byte file", nKV, nTensors, size)
	}
	for i := uint64(0); i < nKV; i++ {
		if err := br.str(); err != nil {
			return fmt.Errorf("corrupt gguf metadata key %d: %w", i, err)
		}
		t, err := br.u32()
		if err != nil {
			return err
		}
		if err := br.value(t, 0); err != nil {
			return fmt.Errorf("corrupt gguf metadata value %d: %w", i, err)
		}
	}
	for i := uint64(0); i < nTensors; i++ {
		if err := br.str(); err != nil {
			return fmt.Errorf("corrupt gguf tensor info %d: %w", i, err)
		}
		dims, err := br.u32()
		if err != nil {
			return err
		}
		if dims > 4 {
			return fmt.Errorf("corrupt gguf tensor info %d: %d dimensions (at most 4)", i, dims)
		}
		if err := br.skip(int64(dims)*8 + 4 + 8); err != nil { // dims, type, offset
			return fmt.Errorf("corrupt gguf tensor info %d: %w", i, err)
		}
	}
	return nil
}

var errGGUFShort = errors.New("length past the end of the file")

type boundedReader struct {
	r     *bufio.Reader
	order binary.ByteOrder
	left  int64
}

func (b *boundedReader) read(p []byte) error {
	if int64(len(p)) > b.left {
		return errGGUFShort
	}
	b.left -= int64(len(p))
	_, err := io.ReadFull(b.r, p)
	return err
}

func (b *boundedReader) skip(n int64) error {
	if n < 0 || n > b.left {
		return errGGUFShort
	}
	b.left -= n
	_, err := b.r.Discard(int(n))
	return err
}

func (b *boundedReader) u32() (uint32, error) {
	var p [4]byte
	err := b.read(p[:])
	return b.order.Uint32(p[:]), err
}

func (b *boundedReader) u64() (uint64, error) {
	var p [8]byte
	err := b.read(p[:])
	return b.order.Uint64(p[:]), err
}

func (b *boundedReader) str() error {
	n, err := b.u64()
	if err != nil {
		return err
	}
	if n > uint64(b.left) {
		return fmt.Errorf("string of %d bytes: %w", n, errGGUFShort)
	}
	return b.skip(int64(n))
}

// ggufScalarSize is the size of each fixed-size GGUF value type.
var ggufScalarSize = map[uint32]int64{0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

func (b *boundedReader) value(t uint32, depth int) error {
	if n, ok := ggufScalarSize[t]; ok {
		return b.skip(n)
	}
	switch t {
	case 8: // string
		return b.str()
	case 9: // array: element type, count, elements
		if depth > 2 {
			return errors.New("arrays nested too deep")
		}
		et, err := b.u32()
		if err != nil {
			return err
		}
		n, err := b.u64()
		if err != nil {
			return err
		}
		min, ok := ggufScalarSize[et]
		if !ok {
			min = 8 // a string or array element takes at least its 8-byte length
		}
		if n > uint64(b.left)/uint64(min) {
			return fmt.Errorf("array of %d elements: %w", n, errGGUFShort)
		}
		if ok {
			return b.skip(int64(n) * min)
		}
		for range n {
			if err := b.value(et, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown value type %d", t)
}
