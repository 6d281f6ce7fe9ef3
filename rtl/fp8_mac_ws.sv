// Weight-stationary FP8 PE of a systolic array, the FP8 counterpart of mac_ws: the
// FP8 weight sits in a register (loaded from b_i by w_load_i), the exact FP8 product is
// widened to FP32 without rounding (fp_mul_fp32, as in fp8_mac), and the FP32
// partial sum from the PE above gets it added (fp_add, one RNE rounding) into the
// registered psum_o; a_i is forwarded to the right neighbour through a_o. A weight
// loaded at this edge is used from the next cycle on. No overflow flag: FP overflow
// goes to inf.
module fp8_mac_ws #(
  parameter int unsigned ExpBits    = 4,
  parameter int unsigned ManBits    = 3,
  parameter int unsigned Bias       = 7,
  parameter int unsigned FnSpecials = 1
) (
  input  logic                     clk_i,     // clock
  input  logic                     rst_ni,    // asynchronous reset, active low
  input  logic                     en_i,      // compute: psum_o <= psum_i + a_i * w, a_o <= a_i
  input  logic                     w_load_i,  // load the weight register from b_i
  input  logic [ExpBits+ManBits:0] a_i,       // FP8 activation from the left neighbour
  input  logic [ExpBits+ManBits:0] b_i,       // FP8 weight to load
  input  logic [31:0]              psum_i,    // FP32 partial sum from the PE above
  output logic [ExpBits+ManBits:0] a_o,       // activation to the right neighbour
  output logic [31:0]              psum_o     // FP32 partial sum to the PE below
);
  logic [ExpBits+ManBits:0] w_q;  // the stationary weight
  // Weight and pipeline registers as in mac_ws and fp_mac_ws (a module would be longer).
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) w_q <= '0;
    else if (w_load_i) w_q <= b_i;
  end

  logic [31:0] p32;
  fp_mul_fp32 #(.ExpBits(ExpBits), .ManBits(ManBits), .Bias(Bias), .FnSpecials(FnSpecials)) u_mul (
    .a_i(a_i), .b_i(w_q), .p_o(p32));

  logic [31:0] sum;
  fp_add #(.ExpBits(8), .ManBits(23)) u_add (.a_i(psum_i), .b_i(p32), .s_o(sum));
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
