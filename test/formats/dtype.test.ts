import { strict as assert } from "node:assert";
import { bf16ToFloat, floatToBf16, floatToHalf, halfToFloat } from "../../lib/formats/dtype.js";

describe("formats/dtype", () => {
  it("converts IEEE half exactly on known bit patterns", () => {
    const cases: [number, number][] = [
      [0x0000, 0], [0x3c00, 1], [0xc000, -2], [0x7bff, 65504], [0x0001, 2 ** -24], [0x0400, 2 ** -14], [0x3555, 0.333251953125], [0x7c00, Infinity], [0xfc00, -Infinity],
    ];
    for (const [bits, value] of cases) {
      assert.equal(halfToFloat(bits), value, `0x${bits.toString(16)}`);
      assert.equal(floatToHalf(value), bits, `${value}`);
    }
    assert.ok(Number.isNaN(halfToFloat(0x7e00)));
    assert.equal(floatToHalf(NaN) & 0x7c00, 0x7c00);
  });

  it("rounds half to nearest even, overflows to Inf and keeps subnormals", () => {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1).
    assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00);
    // 1 + 3 * 2^-11 is halfway between 1 + 2^-10 and 1 + 2^-9: ties to even (1 + 2^-9).
    assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(floatToHalf(65520), 0x7c00);
    assert.equal(floatToHalf(3 * 2 ** -25), 0x0002); // subnormal 1.5 ulp -> ties to even 2
    assert.equal(floatToHalf(2 ** -26), 0x0000);
    // Every half value survives a round trip.
    for (let b = 0; b < 0x7c00; b += 7) assert.equal(floatToHalf(halfToFloat(b)), b);
  });

  it("converts bfloat16 with round-to-nearest-even", () => {
    assert.equal(bf16ToFloat(0x3f80), 1);
    assert.equal(floatToBf16(1), 0x3f80);
    assert.equal(floatToBf16(-2), 0xc000);
    assert.equal(floatToBf16(1 + 2 ** -8), 0x3f80); // tie -> even
    assert.equal(floatToBf16(1 + 3 * 2 ** -8), 0x3f82);
    assert.equal(bf16ToFloat(floatToBf16(3.140625)), 3.140625);
    assert.ok(Number.isNaN(bf16ToFloat(floatToBf16(NaN))));
  });
});
