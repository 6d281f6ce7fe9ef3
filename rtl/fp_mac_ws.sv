// Weight-stationary FP PE of a systolic array in one IEEE-style format (FP32, FP16,
// BF16), the counterpart of mac_ws and fp_mac: the weight sits in a register (loaded
// from b_i by w_load_i), the product a_i * w is rounded to nearest even in the format
// (fp_mul_rne), the partial sum from the PE above gets it added (fp_add, a second RNE
// rounding) into the registered psum_o, and a_i is forwarded through a_o. A weight
// loaded at this edge is used from the next cycle on. No overflow flag: FP overflow
// goes to inf.
module fp_mac_ws #(
  parameter int unsigned ExpBits = 8,
  parameter int unsigned ManBits = 23
) (
  input  logic                     clk_i,     // clock
  input  logic                     rst_ni,    // asynchronous reset, active low
  input  logic                     en_i,      // compute: psum_o <= psum_i + a_i * w, a_o <= a_i
  input  logic                     w_load_i,  // load the weight register from b_i
  input  logic [ExpBits+ManBits:0] a_i,       // activation from the left neighbour
  input  logic [ExpBits+ManBits:0] b_i,       // weight to load
  input  logic [ExpBits+ManBits:0] psum_i,    // partial sum from the PE above
  output logic [ExpBits+ManBits:0] a_o,       // activation to the right neighbour
  output logic [ExpBits+ManBits:0] psum_o     // partial sum to the PE below
);
  logic [ExpBits+ManBits:0] w_q;  // the stationary weight
  // Weight and pipeline registers as in mac_ws and fp8_mac_ws (a module would be longer).
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) w_q <= '0;
    else if (w_load_i) w_q <= b_i;
  end

  logic [ExpBits+ManBits:0] p, sum;
  fp_mul_rne #(.ExpBits(ExpBits), .ManBits(ManBits)) u_mul (.a_i(a_i), .b_i(w_q), .p_o(p));
  fp_add #(.ExpBits(ExpBits), .ManBits(ManBits)) u_add (.a_i(psum_i), .b_i(p), .s_o(sum));
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_o    <= '0;
      psum_o <= '0;
    end else if (en_i) begin
      a_o    <= a_i;
      psum_o <= sum;
    end
  end
endmodule
