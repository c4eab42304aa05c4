package files_test

import (
	"fmt"
	"hash/crc32"
)

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

func itoa(n int) string { return fmt.Sprint(n) }

func pad10(n int) string { return fmt.Sprintf("%010d", n) }

func sscan(s string, x *int) (int, error) { return fmt.Sscan(s, x) }

func sscan2(s string, a, b *int) (int, error) { return fmt.Sscanf(s, "%d 1\n%d", a, b) }
