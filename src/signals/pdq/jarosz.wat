;; PDQ's luminance and Jarosz box filters in WebAssembly SIMD, for src/signals/pdq/pdq.ts.
;;
;; Every operation on floats is a float32 IEEE operation (f32x4 add, sub, mul, div and the
;; exact int-to-float conversion), in the same order as Meta's C++ reference, so each lane
;; computes exactly the float the reference computes. Nothing here reorders a sum.
;;
;; Lanes hold independent values, never parts of one sum:
;; - row passes: 4 rows side by side, one lane per row (the running sum along a row is
;;   serial), two such vectors per step. Their data is in "8-row interleaved" layout:
;;   column x of rows r..r+7 is the 32 bytes at x * 32;
;; - column passes: 4 neighbouring columns of one row (row-major data), one lane per column.
;; `transpose` turns one layout into the other, 4x4 floats at a time.
;;
;; The memory is exported; pdq.ts lays out its buffers and passes byte offsets. Offset 0
;; means "none" where a pointer is optional (pdq.ts never places a buffer there).
;; Assembled into the committed jarosz.wasm by scripts/assemble-wasm.ts (wabt's wat2wasm,
;; SIMD enabled); test/pdq-speed-paths.test.ts checks that the two agree byte for byte.
(module
  (memory (export "memory") 1 65536)

  ;; Luminance of 4 rows of 8-bit pixels into interleaved floats, 4 pixels per step: the
  ;; 4 rows' values at pixel x go to dst + x * pitch (16, or 32 for half of an 8-row group).
  ;; Row k starts at src + k * rowBytes; `channels` bytes per pixel. The swizzle mask at
  ;; `maskAt` gathers the R, G and B bytes of 4 pixels into bytes 0-2 of 4 i32 lanes, byte 3
  ;; zero (indices of 128 and up give 0); with `grey` it gathers only the grey byte, which is
  ;; the luma. Reads up to 16 bytes from the last pixel: the caller pads.
  ;; Writes ceil(width / 4) * 4 vectors.
  (func (export "luma4")
    (param $src i32) (param $rowBytes i32) (param $width i32) (param $channels i32) (param $grey i32) (param $maskAt i32) (param $dst i32) (param $pitch i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $step i32) (local $end i32)
    (local $mask v128) (local $low v128)
    (local $l0 v128) (local $l1 v128) (local $l2 v128) (local $l3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $d1 i32) (local $d2 i32) (local $d3 i32) (local $dstStep i32)
    (local $v v128) (local $cr v128) (local $cg v128) (local $cb v128)
    ;; The reference's luma is (0.299 R + 0.587 G) + 0.114 B, each product and sum rounded
    ;; to float32; the literals are rounded to the float32 coefficients the reference uses.
    (local.set $cr (v128.const f32x4 0.299 0.299 0.299 0.299))
    (local.set $cg (v128.const f32x4 0.587 0.587 0.587 0.587))
    (local.set $cb (v128.const f32x4 0.114 0.114 0.114 0.114))
    (local.set $mask (v128.load (local.get $maskAt)))
    (local.set $low (v128.const i32x4 0xff 0xff 0xff 0xff))
    (local.set $step (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $p0 (local.get $src))
    (local.set $p1 (i32.add (local.get $p0) (local.get $rowBytes)))
    (local.set $p2 (i32.add (local.get $p1) (local.get $rowBytes)))
    (local.set $p3 (i32.add (local.get $p2) (local.get $rowBytes)))
    (local.set $d1 (local.get $pitch))
    (local.set $d2 (i32.shl (local.get $pitch) (i32.const 1)))
    (local.set $d3 (i32.add (local.get $d2) (local.get $pitch)))
    (local.set $dstStep (i32.shl (local.get $pitch) (i32.const 2)))
    (local.set $end (i32.add (local.get $dst) (i32.mul (i32.shr_u (i32.add (local.get $width) (i32.const 3)) (i32.const 2)) (local.get $dstStep))))
    (if (local.get $grey)
      (then
        (loop $grey
          (local.set $l0 (f32x4.convert_i32x4_s (i8x16.swizzle (v128.load (local.get $p0)) (local.get $mask))))
          (local.set $l1 (f32x4.convert_i32x4_s (i8x16.swizzle (v128.load (local.get $p1)) (local.get $mask))))
          (local.set $l2 (f32x4.convert_i32x4_s (i8x16.swizzle (v128.load (local.get $p2)) (local.get $mask))))
          (local.set $l3 (f32x4.convert_i32x4_s (i8x16.swizzle (v128.load (local.get $p3)) (local.get $mask))))
          ;; 4x4 transpose: rows of 4 pixels to 4 pixels of 4 rows.
          (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $l0) (local.get $l1)))
          (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $l0) (local.get $l1)))
          (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $l2) (local.get $l3)))
          (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $l2) (local.get $l3)))
          (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $dst) (local.get $d1)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $dst) (local.get $d2)) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
          (v128.store (i32.add (local.get $dst) (local.get $d3)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
          (local.set $p0 (i32.add (local.get $p0) (local.get $step)))
          (local.set $p1 (i32.add (local.get $p1) (local.get $step)))
          (local.set $p2 (i32.add (local.get $p2) (local.get $step)))
          (local.set $p3 (i32.add (local.get $p3) (local.get $step)))
          (local.set $dst (i32.add (local.get $dst) (local.get $dstStep)))
          (br_if $grey (i32.lt_u (local.get $dst) (local.get $end)))))
      (else
        (loop $colour
          (local.set $v (i8x16.swizzle (v128.load (local.get $p0)) (local.get $mask)))
          (local.set $l0
            (f32x4.add
              (f32x4.add
                (f32x4.mul (local.get $cr) (f32x4.convert_i32x4_s (v128.and (local.get $v) (local.get $low))))
                (f32x4.mul (local.get $cg) (f32x4.convert_i32x4_s (v128.and (i32x4.shr_u (local.get $v) (i32.const 8)) (local.get $low)))))
              (f32x4.mul (local.get $cb) (f32x4.convert_i32x4_s (i32x4.shr_u (local.get $v) (i32.const 16))))))
          (local.set $v (i8x16.swizzle (v128.load (local.get $p1)) (local.get $mask)))
          (local.set $l1
            (f32x4.add
              (f32x4.add
                (f32x4.mul (local.get $cr) (f32x4.convert_i32x4_s (v128.and (local.get $v) (local.get $low))))
                (f32x4.mul (local.get $cg) (f32x4.convert_i32x4_s (v128.and (i32x4.shr_u (local.get $v) (i32.const 8)) (local.get $low)))))
              (f32x4.mul (local.get $cb) (f32x4.convert_i32x4_s (i32x4.shr_u (local.get $v) (i32.const 16))))))
          (local.set $v (i8x16.swizzle (v128.load (local.get $p2)) (local.get $mask)))
          (local.set $l2
            (f32x4.add
              (f32x4.add
                (f32x4.mul (local.get $cr) (f32x4.convert_i32x4_s (v128.and (local.get $v) (local.get $low))))
                (f32x4.mul (local.get $cg) (f32x4.convert_i32x4_s (v128.and (i32x4.shr_u (local.get $v) (i32.const 8)) (local.get $low)))))
              (f32x4.mul (local.get $cb) (f32x4.convert_i32x4_s (i32x4.shr_u (local.get $v) (i32.const 16))))))
          (local.set $v (i8x16.swizzle (v128.load (local.get $p3)) (local.get $mask)))
          (local.set $l3
            (f32x4.add
              (f32x4.add
                (f32x4.mul (local.get $cr) (f32x4.convert_i32x4_s (v128.and (local.get $v) (local.get $low))))
                (f32x4.mul (local.get $cg) (f32x4.convert_i32x4_s (v128.and (i32x4.shr_u (local.get $v) (i32.const 8)) (local.get $low)))))
              (f32x4.mul (local.get $cb) (f32x4.convert_i32x4_s (i32x4.shr_u (local.get $v) (i32.const 16))))))
          (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $l0) (local.get $l1)))
          (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $l0) (local.get $l1)))
          (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $l2) (local.get $l3)))
          (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $l2) (local.get $l3)))
          (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $dst) (local.get $d1)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $dst) (local.get $d2)) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
          (v128.store (i32.add (local.get $dst) (local.get $d3)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
          (local.set $p0 (i32.add (local.get $p0) (local.get $step)))
          (local.set $p1 (i32.add (local.get $p1) (local.get $step)))
          (local.set $p2 (i32.add (local.get $p2) (local.get $step)))
          (local.set $p3 (i32.add (local.get $p3) (local.get $step)))
          (local.set $dst (i32.add (local.get $dst) (local.get $dstStep)))
          (br_if $colour (i32.lt_u (local.get $dst) (local.get $end)))))))

  ;; 4x4 transposes of `blocks` blocks. Block b's 4 source vectors are at
  ;; src + b * srcStep + k * srcStride (k = 0..3), its 4 results go to
  ;; dst + b * dstStep + k * dstStride. Rows to interleaved: srcStep 16, srcStride the row
  ;; pitch, dstStep 64, dstStride 16; interleaved to rows: the other way round.
  (func (export "transpose")
    (param $src i32) (param $srcStep i32) (param $srcStride i32) (param $dst i32) (param $dstStep i32) (param $dstStride i32) (param $blocks i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $s2 i32) (local $d2 i32)
    (local.set $s2 (i32.shl (local.get $srcStride) (i32.const 1)))
    (local.set $d2 (i32.shl (local.get $dstStride) (i32.const 1)))
    (if (i32.eqz (local.get $blocks)) (then (return)))
    (loop $block
      (local.set $a (v128.load (local.get $src)))
      (local.set $b (v128.load (i32.add (local.get $src) (local.get $srcStride))))
      (local.set $c (v128.load (i32.add (local.get $src) (local.get $s2))))
      (local.set $d (v128.load (i32.add (i32.add (local.get $src) (local.get $s2)) (local.get $srcStride))))
      (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
      (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
      (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d)))
      (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d)))
      (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
      (v128.store (i32.add (local.get $dst) (local.get $dstStride)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
      (v128.store (i32.add (local.get $dst) (local.get $d2)) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
      (v128.store (i32.add (i32.add (local.get $dst) (local.get $d2)) (local.get $dstStride)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
      (local.set $src (i32.add (local.get $src) (local.get $srcStep)))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstStep)))
      (local.set $blocks (i32.sub (local.get $blocks) (i32.const 1)))
      (br_if $block (local.get $blocks))))

  ;; The reference's box filter (box1DFloat) along 8 rows at once: two independent 4-row
  ;; chains, so that the processor overlaps their latencies. In and out are 8-row
  ;; interleaved (column x of the 8 rows is the 32 bytes at x * 32), `length` values per row.
  ;; The running sum goes through the reference's 4 phases: add half - 1 values; add and
  ;; write while the window grows; add, subtract and write; subtract and write while it
  ;; shrinks. Each output is the sum divided by the number of values in it. With `divide` 0
  ;; the sums are written undivided (for the sampled second row pass: `sampleColumns`
  ;; divides the few that are sampled).
  (func (export "boxRows") (param $in i32) (param $out i32) (param $length i32) (param $window i32) (param $divide i32)
    (local $half i32) (local $right i32) (local $left i32) (local $end i32) (local $count i32)
    (local $s0 v128) (local $s1 v128) (local $n v128)
    (local.set $half (i32.shr_u (i32.add (local.get $window) (i32.const 2)) (i32.const 1)))
    (local.set $right (local.get $in))
    ;; Phase 1: half - 1 values added, nothing written.
    (local.set $end (i32.add (local.get $in) (i32.shl (i32.sub (local.get $half) (i32.const 1)) (i32.const 5))))
    (local.set $count (i32.sub (local.get $half) (i32.const 1)))
    (block $done1
      (loop $phase1
        (br_if $done1 (i32.ge_u (local.get $right) (local.get $end)))
        (local.set $s0 (f32x4.add (local.get $s0) (v128.load (local.get $right))))
        (local.set $s1 (f32x4.add (local.get $s1) (v128.load offset=16 (local.get $right))))
        (local.set $right (i32.add (local.get $right) (i32.const 32)))
        (br $phase1)))
    ;; Phase 2: window - half + 1 outputs (at least 1), the window growing.
    (local.set $end (i32.add (local.get $out) (i32.shl (i32.add (i32.sub (local.get $window) (local.get $half)) (i32.const 1)) (i32.const 5))))
    (loop $phase2
      (local.set $s0 (f32x4.add (local.get $s0) (v128.load (local.get $right))))
      (local.set $s1 (f32x4.add (local.get $s1) (v128.load offset=16 (local.get $right))))
      (local.set $right (i32.add (local.get $right) (i32.const 32)))
      (local.set $count (i32.add (local.get $count) (i32.const 1)))
      (if (local.get $divide)
        (then
          (local.set $n (f32x4.splat (f32.convert_i32_u (local.get $count))))
          (v128.store (local.get $out) (f32x4.div (local.get $s0) (local.get $n)))
          (v128.store offset=16 (local.get $out) (f32x4.div (local.get $s1) (local.get $n))))
        (else
          (v128.store (local.get $out) (local.get $s0))
          (v128.store offset=16 (local.get $out) (local.get $s1))))
      (local.set $out (i32.add (local.get $out) (i32.const 32)))
      (br_if $phase2 (i32.lt_u (local.get $out) (local.get $end))))
    ;; Phase 3: length - window outputs with the full window.
    (local.set $left (local.get $in))
    (local.set $end (i32.add (local.get $out) (i32.shl (i32.sub (local.get $length) (local.get $window)) (i32.const 5))))
    (local.set $n (f32x4.splat (f32.convert_i32_u (local.get $window))))
    (if (local.get $divide)
      (then
        (block $done3
          (loop $phase3
            (br_if $done3 (i32.ge_u (local.get $out) (local.get $end)))
            (local.set $s0 (f32x4.sub (f32x4.add (local.get $s0) (v128.load (local.get $right))) (v128.load (local.get $left))))
            (local.set $s1 (f32x4.sub (f32x4.add (local.get $s1) (v128.load offset=16 (local.get $right))) (v128.load offset=16 (local.get $left))))
            (v128.store (local.get $out) (f32x4.div (local.get $s0) (local.get $n)))
            (v128.store offset=16 (local.get $out) (f32x4.div (local.get $s1) (local.get $n)))
            (local.set $right (i32.add (local.get $right) (i32.const 32)))
            (local.set $left (i32.add (local.get $left) (i32.const 32)))
            (local.set $out (i32.add (local.get $out) (i32.const 32)))
            (br $phase3))))
      (else
        (block $done3
          (loop $phase3
            (br_if $done3 (i32.ge_u (local.get $out) (local.get $end)))
            (local.set $s0 (f32x4.sub (f32x4.add (local.get $s0) (v128.load (local.get $right))) (v128.load (local.get $left))))
            (local.set $s1 (f32x4.sub (f32x4.add (local.get $s1) (v128.load offset=16 (local.get $right))) (v128.load offset=16 (local.get $left))))
            (v128.store (local.get $out) (local.get $s0))
            (v128.store offset=16 (local.get $out) (local.get $s1))
            (local.set $right (i32.add (local.get $right) (i32.const 32)))
            (local.set $left (i32.add (local.get $left) (i32.const 32)))
            (local.set $out (i32.add (local.get $out) (i32.const 32)))
            (br $phase3)))))
    ;; Phase 4: half - 1 outputs, the window shrinking.
    (local.set $end (i32.add (local.get $out) (i32.shl (i32.sub (local.get $half) (i32.const 1)) (i32.const 5))))
    (local.set $count (local.get $window))
    (block $done4
      (loop $phase4
        (br_if $done4 (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $s0 (f32x4.sub (local.get $s0) (v128.load (local.get $left))))
        (local.set $s1 (f32x4.sub (local.get $s1) (v128.load offset=16 (local.get $left))))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (if (local.get $divide)
          (then
            (local.set $n (f32x4.splat (f32.convert_i32_u (local.get $count))))
            (v128.store (local.get $out) (f32x4.div (local.get $s0) (local.get $n)))
            (v128.store offset=16 (local.get $out) (f32x4.div (local.get $s1) (local.get $n))))
          (else
            (v128.store (local.get $out) (local.get $s0))
            (v128.store offset=16 (local.get $out) (local.get $s1))))
        (local.set $left (i32.add (local.get $left) (i32.const 32)))
        (local.set $out (i32.add (local.get $out) (i32.const 32)))
        (br $phase4))))

  ;; The sampled outputs of an undivided row pass, for 4 of its 8 rows: for each group of 4
  ;; of the 64 sampled columns, their 4-row sums (at sums + column * 32, columns as i32 at
  ;; `columns`) divided by their counts (f32 at `counts`), transposed into 4 rows of 64
  ;; floats at dst + k * 256.
  (func (export "sampleColumns") (param $sums i32) (param $columns i32) (param $counts i32) (param $dst i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128) (local $end i32)
    (local.set $end (i32.add (local.get $columns) (i32.const 256)))
    (loop $block
      (local.set $a (f32x4.div (v128.load (i32.add (local.get $sums) (i32.shl (i32.load (local.get $columns)) (i32.const 5)))) (v128.load32_splat (local.get $counts))))
      (local.set $b (f32x4.div (v128.load (i32.add (local.get $sums) (i32.shl (i32.load offset=4 (local.get $columns)) (i32.const 5)))) (v128.load32_splat offset=4 (local.get $counts))))
      (local.set $c (f32x4.div (v128.load (i32.add (local.get $sums) (i32.shl (i32.load offset=8 (local.get $columns)) (i32.const 5)))) (v128.load32_splat offset=8 (local.get $counts))))
      (local.set $d (f32x4.div (v128.load (i32.add (local.get $sums) (i32.shl (i32.load offset=12 (local.get $columns)) (i32.const 5)))) (v128.load32_splat offset=12 (local.get $counts))))
      (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
      (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
      (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d)))
      (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d)))
      (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
      (v128.store offset=256 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
      (v128.store offset=512 (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
      (v128.store offset=768 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
      (local.set $columns (i32.add (local.get $columns) (i32.const 16)))
      (local.set $counts (i32.add (local.get $counts) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (br_if $block (i32.lt_u (local.get $columns) (local.get $end)))))

  ;; One row of the box filter down columns: `bytes` bytes of running sums at `sums` (4
  ;; columns per step) take in the row at `add` and give up the row at `sub`, in that order,
  ;; as the reference adds then subtracts; either may be 0 (none). With `count` > 0 the new
  ;; sums divided by `count` are written at `out`.
  (func (export "columnStep") (param $sums i32) (param $add i32) (param $sub i32) (param $out i32) (param $count i32) (param $bytes i32)
    (local $end i32) (local $s v128) (local $n v128)
    (local.set $end (i32.add (local.get $sums) (local.get $bytes)))
    (local.set $n (f32x4.splat (f32.convert_i32_u (local.get $count))))
    (if (i32.eqz (local.get $sub))
      (then
        (if (local.get $count)
          (then
            (loop $addWrite
              (local.set $s (f32x4.add (v128.load (local.get $sums)) (v128.load (local.get $add))))
              (v128.store (local.get $sums) (local.get $s))
              (v128.store (local.get $out) (f32x4.div (local.get $s) (local.get $n)))
              (local.set $sums (i32.add (local.get $sums) (i32.const 16)))
              (local.set $add (i32.add (local.get $add) (i32.const 16)))
              (local.set $out (i32.add (local.get $out) (i32.const 16)))
              (br_if $addWrite (i32.lt_u (local.get $sums) (local.get $end)))))
          (else
            (loop $add
              (v128.store (local.get $sums) (f32x4.add (v128.load (local.get $sums)) (v128.load (local.get $add))))
              (local.set $sums (i32.add (local.get $sums) (i32.const 16)))
              (local.set $add (i32.add (local.get $add) (i32.const 16)))
              (br_if $add (i32.lt_u (local.get $sums) (local.get $end))))))
        (return)))
    (if (i32.eqz (local.get $add))
      (then
        (if (local.get $count)
          (then
            (loop $subWrite
              (local.set $s (f32x4.sub (v128.load (local.get $sums)) (v128.load (local.get $sub))))
              (v128.store (local.get $sums) (local.get $s))
              (v128.store (local.get $out) (f32x4.div (local.get $s) (local.get $n)))
              (local.set $sums (i32.add (local.get $sums) (i32.const 16)))
              (local.set $sub (i32.add (local.get $sub) (i32.const 16)))
              (local.set $out (i32.add (local.get $out) (i32.const 16)))
              (br_if $subWrite (i32.lt_u (local.get $sums) (local.get $end)))))
          (else
            (loop $sub
              (v128.store (local.get $sums) (f32x4.sub (v128.load (local.get $sums)) (v128.load (local.get $sub))))
              (local.set $sums (i32.add (local.get $sums) (i32.const 16)))
              (local.set $sub (i32.add (local.get $sub) (i32.const 16)))
              (br_if $sub (i32.lt_u (local.get $sums) (local.get $end))))))
        (return)))
    (if (local.get $count)
      (then
        (loop $addSubWrite
          (local.set $s (f32x4.sub (f32x4.add (v128.load (local.get $sums)) (v128.load (local.get $add))) (v128.load (local.get $sub))))
          (v128.store (local.get $sums) (local.get $s))
          (v128.store (local.get $out) (f32x4.div (local.get $s) (local.get $n)))
          (local.set $sums (i32.add (local.get $sums) (i32.const 16)))
          (local.set $add (i32.add (local.get $add) (i32.const 16)))
          (local.set $sub (i32.add (local.get $sub) (i32.const 16)))
          (local.set $out (i32.add (local.get $out) (i32.const 16)))
          (br_if $addSubWrite (i32.lt_u (local.get $sums) (local.get $end)))))
      (else
        (loop $addSub
          (v128.store (local.get $sums) (f32x4.sub (f32x4.add (v128.load (local.get $sums)) (v128.load (local.get $add))) (v128.load (local.get $sub))))
          (local.set $sums (i32.add (local.get $sums) (i32.const 16)))
          (local.set $add (i32.add (local.get $add) (i32.const 16)))
          (local.set $sub (i32.add (local.get $sub) (i32.const 16)))
          (br_if $addSub (i32.lt_u (local.get $sums) (local.get $end)))))))
  ;; The 16x16 low-frequency corner of the 64x64 block's DCT as the reference computes it:
  ;; T = D·A, then B = T·Dᵀ, each sum taken over k in increasing order, one float32 product
  ;; and one float32 sum per term. D (16x64) is at `matrix` and its transpose (64x16) at
  ;; `transposed`; the block A (64x64) at `block`; T goes to `partial` (16x64) and B to
  ;; `out` (16x16), all row-major. Lanes are 4 neighbouring outputs (j), each its own sum.
  (func (export "dct") (param $block i32) (param $matrix i32) (param $transposed i32) (param $partial i32) (param $out i32)
    (local $i i32) (local $j i32) (local $k i32) (local $d v128) (local $a i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    ;; T = D·A: T[i][j] = sum over k of D[i][k] * A[k][j], 16 columns j per pass of k.
    (local.set $i (i32.const 0))
    (loop $rowsT
      (local.set $j (i32.const 0))
      (loop $columnsT
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $s2 (v128.const i32x4 0 0 0 0))
        (local.set $s3 (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (loop $terms
          (local.set $d (v128.load32_splat (i32.add (local.get $matrix) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 6)) (local.get $k)) (i32.const 2)))))
          (local.set $a (i32.add (local.get $block) (i32.add (i32.shl (local.get $k) (i32.const 8)) (i32.shl (local.get $j) (i32.const 2)))))
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $d) (v128.load (local.get $a)))))
          (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $d) (v128.load offset=16 (local.get $a)))))
          (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (local.get $d) (v128.load offset=32 (local.get $a)))))
          (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (local.get $d) (v128.load offset=48 (local.get $a)))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $terms (i32.lt_u (local.get $k) (i32.const 64))))
        (local.set $a (i32.add (local.get $partial) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 6)) (local.get $j)) (i32.const 2))))
        (v128.store (local.get $a) (local.get $s0))
        (v128.store offset=16 (local.get $a) (local.get $s1))
        (v128.store offset=32 (local.get $a) (local.get $s2))
        (v128.store offset=48 (local.get $a) (local.get $s3))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $columnsT (i32.lt_u (local.get $j) (i32.const 64))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $rowsT (i32.lt_u (local.get $i) (i32.const 16))))
    ;; B = T·Dᵀ: B[i][j] = sum over k of T[i][k] * D[j][k], all 16 columns j at once.
    (local.set $i (i32.const 0))
    (loop $rowsB
      (local.set $s0 (v128.const i32x4 0 0 0 0))
      (local.set $s1 (v128.const i32x4 0 0 0 0))
      (local.set $s2 (v128.const i32x4 0 0 0 0))
      (local.set $s3 (v128.const i32x4 0 0 0 0))
      (local.set $k (i32.const 0))
      (loop $termsB
        (local.set $d (v128.load32_splat (i32.add (local.get $partial) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 6)) (local.get $k)) (i32.const 2)))))
        (local.set $a (i32.add (local.get $transposed) (i32.shl (local.get $k) (i32.const 6))))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $d) (v128.load (local.get $a)))))
        (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $d) (v128.load offset=16 (local.get $a)))))
        (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (local.get $d) (v128.load offset=32 (local.get $a)))))
        (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (local.get $d) (v128.load offset=48 (local.get $a)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $termsB (i32.lt_u (local.get $k) (i32.const 64))))
      (local.set $a (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 6))))
      (v128.store (local.get $a) (local.get $s0))
      (v128.store offset=16 (local.get $a) (local.get $s1))
      (v128.store offset=32 (local.get $a) (local.get $s2))
      (v128.store offset=48 (local.get $a) (local.get $s3))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $rowsB (i32.lt_u (local.get $i) (i32.const 16)))))

  ;; The reference's gradient sum of the 64x64 block (row-major at `block`): over every pair
  ;; of vertical and of horizontal neighbours u, v, |int(((u - v) * 100) / 255)| in float32,
  ;; truncated toward zero. pdq.ts turns it into the quality, min(100, sum / 90).
  (func (export "gradientSum") (param $block i32) (result i32)
    (local $p i32) (local $end i32) (local $row i32) (local $sum v128) (local $d v128)
    ;; Vertical neighbours: rows i and i + 1, for i < 63.
    (local.set $p (local.get $block))
    (local.set $end (i32.add (local.get $block) (i32.const 16128)))
    (loop $vertical
      (local.set $d (f32x4.sub (v128.load (local.get $p)) (v128.load offset=256 (local.get $p))))
      (local.set $sum (i32x4.add (local.get $sum) (call $quantised (local.get $d))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br_if $vertical (i32.lt_u (local.get $p) (local.get $end))))
    ;; Horizontal neighbours: columns j and j + 1, for j < 63 (the last lane of each row's
    ;; last step, j = 63, is masked off).
    (local.set $row (local.get $block))
    (local.set $end (i32.add (local.get $block) (i32.const 16384)))
    (loop $rows
      (local.set $p (local.get $row))
      (loop $horizontal
        (local.set $d (f32x4.sub (v128.load (local.get $p)) (v128.load offset=4 (local.get $p))))
        (local.set $sum (i32x4.add (local.get $sum) (call $quantised (local.get $d))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br_if $horizontal (i32.lt_u (local.get $p) (i32.add (local.get $row) (i32.const 240)))))
      (local.set $d (f32x4.sub (v128.load (local.get $p)) (v128.load offset=4 (local.get $p))))
      (local.set $sum (i32x4.add (local.get $sum) (v128.and (call $quantised (local.get $d)) (v128.const i32x4 -1 -1 -1 0))))
      (local.set $row (i32.add (local.get $row) (i32.const 256)))
      (br_if $rows (i32.lt_u (local.get $row) (local.get $end))))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $sum)) (i32x4.extract_lane 1 (local.get $sum)))
      (i32.add (i32x4.extract_lane 2 (local.get $sum)) (i32x4.extract_lane 3 (local.get $sum)))))

  ;; |int((d * 100) / 255)| per lane, in float32 (|d| <= 255, so the result is at most 100).
  (func $quantised (param $d v128) (result v128)
    (i32x4.abs (i32x4.trunc_sat_f32x4_s
      (f32x4.div (f32x4.mul (local.get $d) (v128.const f32x4 100 100 100 100)) (v128.const f32x4 255 255 255 255)))))
)
