// Floating-point accumulator: a register in the accumulation format plus fp_add (round
// to nearest even after every addition, as a sequential FP MAC accumulates).
// Synchronous clear (to +0) wins over enable; asynchronous active-low reset.
module fp_acc #(
  parameter int unsigned ExpBits = 5,
  parameter int unsigned ManBits = 10
) (
  input  logic                     clk_i,    // clock
  input  logic                     rst_ni,   // asynchronous reset, active low
  input  logic                     clear_i,  // synchronous clear to +0
  input  logic                     en_i,     // add in_i this cycle
  input  logic [ExpBits+ManBits:0] in_i,     // addend, same format
  output logic [ExpBits+ManBits:0] acc_o     // running sum
);
  logic [ExpBits+ManBits:0] sum;
  fp_add #(.ExpBits(ExpBits), .ManBits(ManBits)) u_add (.a_i(acc_o), .b_i(in_i), .s_o(sum));
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) acc_o <= '0;
    else if (clear_i) acc_o <= '0;
    else if (en_i) acc_o <= sum;
  end
endmodule
