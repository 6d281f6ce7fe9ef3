// Weight-stationary FP8 PE of a systolic array, the FP8 counterpart of mac_ws: the
// FP8 weight sits in a register (loaded from b_i by w_load_i), the exact FP8 product
// (fp_mul) is widened to FP32 without rounding exactly as in fp8_mac, and the FP32
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
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) w_q <= '0;
    else if (w_load_i) w_q <= b_i;
  end

  localparam int unsigned PE = ExpBits + 2, PM = 2 * ManBits + 1;  // product format
  localparam int unsigned PBias = (1 << (PE - 1)) - 1;
  logic [PE+PM:0] p;
  fp_mul #(.ExpBits(ExpBits), .ManBits(ManBits), .Bias(Bias), .FnSpecials(FnSpecials)) u_mul (
    .a_i(a_i), .b_i(w_q), .p_o(p));
  // Widen (as fp8_mac): products are normal or zero in the product format, so only the
  // exponent is re-biased; the all-ones exponent (inf/NaN) maps to all ones.
  logic ps;
  logic [PE-1:0] pe;
  logic [PM-1:0] pm;
  assign {ps, pe, pm} = p;
  logic [31:0] p32;
  always_comb begin
    if (pe == '0) p32 = {ps, 31'b0};
    else if (&pe) p32 = {ps, 8'hFF, pm, {(23 - PM){1'b0}}};
    else p32 = {ps, 8'(pe) - 8'(PBias) + 8'd127, pm, {(23 - PM){1'b0}}};
  end

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
