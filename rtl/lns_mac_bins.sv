// LNS unit A' (issue 17; golden model arith::lns_unit_a_bins): lns_mac's sum kept as γ =
// 2^FracBits bins. A product of log p = e_a + e_b adds the one-hot ±2^(q - q_min) (q = p >> b)
// to bin r = p mod γ: no table and no wide shifter per product, one BinWidth-bit adder
// shared by the bins. The read-out combines Σ_r LUT[r]·P_r (LUT from lns_pow2_rom, constant
// multipliers) into AccWidth bits: bit-identical to lns_mac's sum (arith checks A = A').
// The combine runs once per output, not per product: its operands are gated by read_i
// (operand isolation), so it switches only on read cycles; acc_o and overflow_o are 0 while
// read_i is low. overflow_o: the combined sum does not fit AccWidth (the bins are exact, so
// this is arith's flag for the final sum, not a sticky one). Bins wrap at BinWidth bits:
// they hold 2^(BinWidth - 1 - (q_max - q_min)) - 1 products between clears (size BinWidth
// for the longest dot product: (q_max - q_min) + 2 + ceil(log2 K) holds K).
module lns_mac_bins #(
  parameter int unsigned ExpBits  = 7,   // W_e: bits of the log code
  parameter int unsigned FracBits = 3,   // b: fraction bits of the log (γ = 2^b bins)
  parameter int unsigned Alpha    = 6,   // fraction bits of the conversion table
  parameter int unsigned AccWidth = 51,  // the combined sum
  parameter int unsigned BinWidth = 45   // each bin, two's complement
) (
  input  logic                clk_i,       // clock
  input  logic                rst_ni,      // asynchronous reset, active low
  input  logic                clear_i,     // synchronous clear of every bin (wins over en_i)
  input  logic                en_i,        // accumulate a_i * b_i this cycle
  input  logic                read_i,      // combine the bins onto acc_o, overflow_o
  input  logic [ExpBits:0]    a_i,         // L(ExpBits, FracBits) code {sign, e}
  input  logic [ExpBits:0]    b_i,         // L(ExpBits, FracBits) code {sign, e}
  output logic [AccWidth-1:0] acc_o,       // Σ LUT[r]·P_r in units of 2^(q_min - Alpha) (0 unless read_i)
  output logic                overflow_o   // that sum does not fit AccWidth bits (0 unless read_i)
);
  localparam int EMin = 1 - (1 << (ExpBits - 1));
  localparam int EMax = (1 << (ExpBits - 1)) - 1;
  localparam int QMin = (2 * EMin) >>> FracBits;
  localparam int QMax = (2 * EMax) >>> FracBits;
  localparam int unsigned Span  = QMax - QMin;
  localparam int unsigned PW    = ExpBits + 1;
  localparam int unsigned SW    = $clog2(Span + 1);
  localparam int unsigned Gamma = 1 << FracBits;
  localparam int unsigned RW    = FracBits > 0 ? FracBits : 1;
  // Σ of γ products |P_r|·LUT[r] < 2^(BinWidth-1)·2^(Alpha+1) each, and a sign bit.
  localparam int unsigned CombW = BinWidth + Alpha + 1 + FracBits;
  localparam int unsigned OutW  = (CombW > AccWidth ? CombW : AccWidth) + 1;

  logic zero, neg;
  logic [PW-1:0] p, q;
  logic [SW-1:0] shift;
  logic [RW-1:0] r;
  assign zero  = (a_i[ExpBits-1:0] == {1'b1, {(ExpBits-1){1'b0}}}) | (b_i[ExpBits-1:0] == {1'b1, {(ExpBits-1){1'b0}}});
  assign neg   = a_i[ExpBits] ^ b_i[ExpBits];  // a zero product leaves the bins (no enable)
  assign p     = {a_i[ExpBits-1], a_i[ExpBits-1:0]} + {b_i[ExpBits-1], b_i[ExpBits-1:0]};
  assign q     = PW'($signed(p) >>> FracBits);
  assign shift = SW'(q - PW'(QMin));
  if (FracBits > 0) begin : g_frac
    assign r = p[FracBits-1:0];
  end else begin : g_radix2
    assign r = 1'b0;
  end

  // The bins, one shared adder: bin r ± (1 << shift), negation by invert and carry in.
  logic [Gamma*BinWidth-1:0] bin_q;  // bin g at [g*BinWidth +: BinWidth]: registers with a reset, not a memory
  logic [BinWidth-1:0] sel, inc, next;
  logic unused_cout;
  assign sel = bin_q[r*BinWidth +: BinWidth];
  assign inc = (BinWidth'(1) << shift) ^ {BinWidth{neg}};
  add_ripple #(.Width(BinWidth)) u_add (.a_i(sel), .b_i(inc), .cin_i(neg), .sum_o(next), .cout_o(unused_cout));

  for (genvar g = 0; g < Gamma; g++) begin : g_bin
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        bin_q[g*BinWidth +: BinWidth] <= '0;
      end else if (clear_i) begin
        bin_q[g*BinWidth +: BinWidth] <= '0;
      end else if (en_i && !zero && r == RW'(g)) begin
        bin_q[g*BinWidth +: BinWidth] <= next;
      end
    end
  end

  // Read-out: Σ_r LUT[r]·P_r over operands gated by read_i.
  logic [Gamma*(Alpha+1)-1:0] lut;      // LUT[g] at [g*(Alpha+1) +: Alpha+1]
  logic [Gamma*BinWidth-1:0] bin_iso;
  logic [OutW-1:0] total;
  for (genvar g = 0; g < Gamma; g++) begin : g_lut
    lns_pow2_rom #(.FracBits(FracBits), .Alpha(Alpha)) u_lut (.r_i(RW'(g)), .lut_o(lut[g*(Alpha+1) +: Alpha+1]));
  end
  assign bin_iso = bin_q & {(Gamma*BinWidth){read_i}};
  always_comb begin
    total = '0;
    for (int g = 0; g < Gamma; g++)
      total = total + OutW'($signed(bin_iso[g*BinWidth +: BinWidth])) * OutW'(lut[g*(Alpha+1) +: Alpha+1]);
  end
  assign acc_o = total[AccWidth-1:0];
  assign overflow_o = (total[OutW-1:AccWidth-1] != '0) && (total[OutW-1:AccWidth-1] != '1);
endmodule
