// FP8 multiply-accumulate: the exact FP8 product (fp_mul, E4M3 or E5M2) widened without
// rounding to FP32 and accumulated by an FP32 fp_acc (round to nearest even per add).
module fp8_mac #(
  parameter int unsigned ExpBits    = 4,
  parameter int unsigned ManBits    = 3,
  parameter int unsigned Bias       = 7,
  parameter int unsigned FnSpecials = 1
) (
  input  logic                     clk_i,    // clock
  input  logic                     rst_ni,   // asynchronous reset, active low
  input  logic                     clear_i,  // synchronous clear to +0
  input  logic                     en_i,     // accumulate a_i * b_i this cycle
  input  logic [ExpBits+ManBits:0] a_i,      // FP8 activation
  input  logic [ExpBits+ManBits:0] b_i,      // FP8 weight
  output logic [31:0]              acc_o     // FP32 running sum
);
  localparam int unsigned PE = ExpBits + 2, PM = 2 * ManBits + 1;  // product format
  localparam int unsigned PBias = (1 << (PE - 1)) - 1;
  logic [PE+PM:0] p;
  fp_mul #(.ExpBits(ExpBits), .ManBits(ManBits), .Bias(Bias), .FnSpecials(FnSpecials)) u_mul (
    .a_i(a_i), .b_i(b_i), .p_o(p));
  // Widen: products are normal or zero in the product format, so only the exponent is
  // re-biased; the all-ones exponent (inf/NaN) maps to all ones.
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
  fp_acc #(.ExpBits(8), .ManBits(23)) u_acc (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .en_i(en_i), .in_i(p32), .acc_o(acc_o));
endmodule
