// LNS units B and C (issue 17; golden model arith::lns_log_add through lns_log_step):
// log-multiply and accumulation in the log domain, one product per enabled cycle. The sum
// is itself an LNS number {sign, e} with AccFrac fraction bits in AccExpBits bits, the most
// negative e standing for zero (as the operands' format). A product of log
// P = (e_a + e_b) << (AccFrac - FracBits) and sign s meets the sum {s_A, e_A}:
//   d = |e_A - P|, the larger log is kept (ties: the sum's, with its sign) and moves by
//   same signs      sb(d) = log2(1 + 2^-d)
//   opposite signs  db(d) = log2(1 - 2^-d), d = 0 cancelling exactly to zero;
// B (Mitchell = 0) reads RNE tables of both up to their essential zero (lns_gauss_rom,
// written from arith's tables), C (Mitchell = 1) computes Mitchell's approximations with no
// ROM: 2^-d as (1 + f)·2^k, log2(1 - y) of (1 - y) = (1 + m)·2^j as j + m, truncating.
// A sum above the largest log saturates there (saturated_o, sticky until a clear); one
// below the smallest nonzero magnitude flushes to zero. Each addition rounds, so the order
// of the terms is part of the result. A zero operand adds nothing.
module lns_log_acc #(
  parameter int unsigned ExpBits    = 7,   // W_e: the operands' log code bits
  parameter int unsigned FracBits   = 3,   // b: the operands' log fraction bits
  parameter int unsigned AccFrac    = 5,   // F_acc >= FracBits: the sum's log fraction bits
  parameter int unsigned AccExpBits = 11,  // the sum's log code bits (<= 31; must hold 2·e_max << (F - b))
  parameter int unsigned Mitchell   = 0    // 0: unit B (tables), 1: unit C (Mitchell, no ROM)
) (
  input  logic                clk_i,        // clock
  input  logic                rst_ni,       // asynchronous reset, active low
  input  logic                clear_i,      // synchronous clear to zero, flag too (wins over en_i)
  input  logic                en_i,         // accumulate a_i * b_i this cycle
  input  logic [ExpBits:0]    a_i,          // L(ExpBits, FracBits) code {sign, e}
  input  logic [ExpBits:0]    b_i,          // L(ExpBits, FracBits) code {sign, e}
  output logic [AccExpBits:0] sum_o,        // the sum {sign, e}: L(AccExpBits, AccFrac), zero = {0, 100..0}
  output logic                saturated_o   // sticky: the sum reached the top of its range
);
  localparam int unsigned PW = ExpBits + 1;
  localparam int unsigned EW = AccExpBits;
  // The candidate sum's log: the larger log plus a delta in (-2^(AccFrac+5), 2^AccFrac].
  localparam int unsigned RW = (EW > AccFrac + 6 ? EW : AccFrac + 6) + 1;
  localparam logic [EW-1:0] ZeroCode = {1'b1, {(EW-1){1'b0}}};
  localparam logic [RW-1:0] EMaxSum = RW'((1 << (EW - 1)) - 1);
  localparam logic [RW-1:0] EMinSum = RW'(1 - (1 << (EW - 1)));

  if (AccExpBits > 31 || AccFrac < FracBits) begin : g_bad_params
    $error("lns_log_acc: AccExpBits must be <= 31 and AccFrac >= FracBits");
  end

  logic [EW-1:0] e_q;
  logic          neg_q;
  assign sum_o = {neg_q, e_q};

  // The product: zero, sign, log scaled to AccFrac fraction bits.
  logic zero, s;
  logic [PW-1:0] p;
  logic [EW-1:0] pe;
  assign zero = (a_i[ExpBits-1:0] == {1'b1, {(ExpBits-1){1'b0}}}) | (b_i[ExpBits-1:0] == {1'b1, {(ExpBits-1){1'b0}}});
  assign s    = a_i[ExpBits] ^ b_i[ExpBits];
  assign p    = {a_i[ExpBits-1], a_i[ExpBits-1:0]} + {b_i[ExpBits-1], b_i[ExpBits-1:0]};
  assign pe   = EW'($signed(p)) << (AccFrac - FracBits);

  // Compare the logs: d = |e_A - P| (EW + 1 bits), the larger one and its sign.
  logic [EW:0] diff, d;
  logic ge;  // e_A >= P
  logic [EW-1:0] top;
  logic top_neg, same, acc_zero;
  assign diff     = {e_q[EW-1], e_q} - {pe[EW-1], pe};
  assign ge       = ~diff[EW];
  assign d        = ge ? diff : -diff;
  assign top      = ge ? e_q : pe;
  assign top_neg  = ge ? neg_q : s;
  assign same     = neg_q == s;
  assign acc_zero = e_q == ZeroCode;

  // delta: + sb(d) for same signs, - |db(d)| for opposite ones.
  logic [RW-1:0] delta;
  if (Mitchell == 0) begin : g_tables
    logic [AccFrac:0] sb;
    logic [AccFrac+4:0] db;
    lns_gauss_rom #(.AccFrac(AccFrac)) u_rom (.d_i(32'(d)), .sb_o(sb), .db_o(db));
    assign delta = same ? RW'(sb) : -(RW'(db));  // (parenthesised: Yosys 0.23 reads -RW'(x) as (-RW)'(x))
  end else begin : g_mitchell
    // 2^(-d/2^F) ≈ (1 + f)·2^-k, k = ceil(d / 2^F), f = (-d mod 2^F) / 2^F: F+1 bits.
    logic [EW:0] k;
    logic [AccFrac:0] pow2, w;
    assign k = (d + (EW + 1)'((1 << AccFrac) - 1)) >> AccFrac;
    if (AccFrac > 0) begin : g_f
      logic [AccFrac-1:0] f;
      assign f    = AccFrac'(-d);
      assign pow2 = {1'b1, f} >> k;
    end else begin : g_f0
      assign pow2 = 1'b1 >> k;
    end
    // Opposite signs: 1 - 2^(-d/2^F) = w / 2^F, 1 <= w <= 2^F for d >= 1; its log as
    // j + m: j = (leading one of w) - F, m the bits below the leading one, left-aligned.
    assign w = (AccFrac + 1)'(1 << AccFrac) - pow2;
    logic [RW-1:0] log_w;
    if (AccFrac > 0) begin : g_log
      localparam int unsigned LW = $clog2(AccFrac + 1);
      logic [LW-1:0] lead;
      logic [AccFrac-1:0] m;  // the bits below the leading one (which shifts out)
      always_comb begin
        lead = '0;
        for (int i = 0; i <= AccFrac; i++) if (w[i]) lead = LW'(i);
      end
      assign m     = AccFrac'(w << (LW'(AccFrac) - lead));
      assign log_w = ((RW'(lead) - RW'(AccFrac)) << AccFrac) + RW'(m);
    end else begin : g_log0
      logic unused_w;
      assign unused_w = w[0];  // w = 1 whenever d >= 1: log2 1 = 0
      assign log_w = '0;
    end
    assign delta = same ? RW'(pow2) : log_w;
  end

  // The candidate sum, then the range: saturate above, flush to zero below.
  logic [RW-1:0] res;
  logic cancel, above, below;
  assign res    = RW'($signed(top)) + delta;
  assign cancel = !same && d == '0;
  assign above  = $signed(res) > $signed(EMaxSum);
  assign below  = $signed(res) < $signed(EMinSum);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      e_q         <= ZeroCode;
      neg_q       <= 1'b0;
      saturated_o <= 1'b0;
    end else if (clear_i) begin
      e_q         <= ZeroCode;
      neg_q       <= 1'b0;
      saturated_o <= 1'b0;
    end else if (en_i && !zero) begin
      if (acc_zero) begin  // the first term: its own log (always in range)
        e_q   <= pe;
        neg_q <= s;
      end else if (cancel || below) begin
        e_q   <= ZeroCode;
        neg_q <= 1'b0;
      end else if (above) begin
        e_q         <= EMaxSum[EW-1:0];
        neg_q       <= top_neg;
        saturated_o <= 1'b1;
      end else begin
        e_q   <= res[EW-1:0];
        neg_q <= top_neg;
      end
    end
  end
endmodule
