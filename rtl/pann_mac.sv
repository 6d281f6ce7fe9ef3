// PANN processing element (papers.md §1), output-stationary: accumulates Σ_k x_k·w̃_k
// for one output with no multiplier, each product x·w̃ as |w̃| additions of the
// unsigned activation x, one per cycle. The sign of w̃ picks one of two unsigned
// accumulators (positive weights into sum_pos_o, negative into sum_neg_o); pos − neg is
// formed once per output outside the PE. Keeping both sums unsigned is PANN's point:
// only the low bits and a rare carry toggle, no sign extension flips the upper bits.
// Timing, one rule per edge (clear aside): every edge with a non-zero count adds x_q
// into the sum neg_q selects, and counts down unless start_i loads x_i, r_i and neg_i
// (the count becomes r_i). So the next job's start overlaps the current job's last
// addition: done_o = (count <= 1) says the next start may come on this very cycle
// (count 1: that edge still adds the old x into the old sum, then loads the new job;
// count 0: it only loads). Jobs issued back to back as soon as done_o allows take
// |w̃| cycles each (a zero weight: its start cycle), and a run after a clear 1 + Σ|w̃|
// (no zero weights): one initial start, then only additions; the last job's final
// addition is an edge without a start after done_o rose. A start while the count is
// above 1 is the same rule: that edge adds once more, the rest of the job is dropped
// (the executor starts only when done_o). Synchronous clear (both sums, the count, the
// sticky overflow flag) wins over start and addition, so a clear at count 1 drops the
// last addition; the x and sign registers are not cleared (with the count at zero
// nothing reads them, and clearing them would only add toggles).
// overflow_o: some addition since the last clear wrapped or saturated (sticky: a whole
// output is flagged, not its last cycle).
// Each sum has its own acc_add (zero-extended addend, ripple add, carry-out overflow,
// wrap or saturate) reading its own register, rather than one acc_add shared through a
// 2:1 mux on its accumulator input: with an addend of WidthX bits, an adder's upper
// AccWidth − WidthX bits are only an incrementer, no bigger than the AccWidth-bit mux,
// and the mux passes every change of the selected sum on into the adder. Measured
// with a start cycle of its own per job (WidthX 8, RWidth 4, AccWidth 32, Yosys/ABC
// generic gates): two adders 893 µm² and 0.31 pJ per addition, one shared 973 µm² and
// 0.42 pJ; two adders with the overlapped start, 912 µm² and 0.30 pJ.
// The sum not selected keeps its value (its flip-flops are not written), and its adder's
// inputs stay still while a job runs (its register holds; x_q changes only at a start),
// so it switches only at starts. The adders always read x_q, never x_i: the addition at
// an overlapped start is the old job's, and the new x reaches the adders a cycle later.
module pann_mac #(
  parameter int unsigned WidthX   = 8,   // activation bits (unsigned)
  parameter int unsigned RWidth   = 4,   // bits of |w̃|: up to 2^RWidth − 1 additions per start
  parameter int unsigned AccWidth = 32,  // each accumulator, >= WidthX
  parameter int unsigned Saturate = 0    // 0: wrap, 1: saturate at 2^AccWidth − 1
) (
  input  logic                clk_i,       // clock
  input  logic                rst_ni,      // asynchronous reset, active low
  input  logic                clear_i,     // both sums and the count to zero (wins over start_i)
  input  logic                start_i,     // load x_i, r_i, neg_i: r_i additions of x_i from the next edge
  input  logic [WidthX-1:0]   x_i,         // unsigned activation
  input  logic [RWidth-1:0]   r_i,         // |w̃|, the number of additions
  input  logic                neg_i,       // w̃ < 0: add into sum_neg_o
  output logic [AccWidth-1:0] sum_pos_o,   // Σ x·w̃ over the positive weights since the clear
  output logic [AccWidth-1:0] sum_neg_o,   // Σ x·|w̃| over the negative weights since the clear
  output logic                done_o,      // count <= 1: the next start may come at this edge
  output logic                overflow_o   // an addition since the last clear wrapped or saturated
);
  logic [WidthX-1:0] x_q;
  logic [RWidth-1:0] count_q;
  logic              neg_q;
  logic              adding;  // this edge adds x_q into the sum neg_q selects (unless clear_i)
  assign adding = (count_q != '0);
  assign done_o = ((count_q >> 1) == '0);  // count_q <= 1, which Verilator calls constant at RWidth 1

  logic [AccWidth-1:0] next_pos, next_neg;
  logic ovf_pos, ovf_neg;
  acc_add #(.Width(AccWidth), .InWidth(WidthX), .Signed(0), .Saturate(Saturate)) u_add_pos (
    .acc_i(sum_pos_o), .in_i(x_q), .sum_o(next_pos), .overflow_o(ovf_pos));
  acc_add #(.Width(AccWidth), .InWidth(WidthX), .Signed(0), .Saturate(Saturate)) u_add_neg (
    .acc_i(sum_neg_o), .in_i(x_q), .sum_o(next_neg), .overflow_o(ovf_neg));

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      x_q        <= '0;
      count_q    <= '0;
      neg_q      <= 1'b0;
      sum_pos_o  <= '0;
      sum_neg_o  <= '0;
      overflow_o <= 1'b0;
    end else if (clear_i) begin
      count_q    <= '0;
      sum_pos_o  <= '0;
      sum_neg_o  <= '0;
      overflow_o <= 1'b0;
    end else begin
      if (adding) begin
        if (neg_q) sum_neg_o <= next_neg;
        else       sum_pos_o <= next_pos;
        overflow_o <= overflow_o | (neg_q ? ovf_neg : ovf_pos);
      end
      if (start_i) begin
        x_q      <= x_i;
        count_q  <= r_i;
        neg_q    <= neg_i;
      end else if (adding) begin
        count_q  <= count_q - 1'b1;
      end
    end
  end
endmodule
