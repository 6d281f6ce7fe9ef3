// Kogge-Stone parallel-prefix adder: generate/propagate pairs combined in log2(Width)
// levels with the maximum fan-out-1 prefix graph (fast, large).
module add_kogge_stone #(
  parameter int unsigned Width = 8
) (
  input  logic [Width-1:0] a_i,    // addend
  input  logic [Width-1:0] b_i,    // addend
  input  logic             cin_i,  // carry in
  output logic [Width-1:0] sum_o,  // sum modulo 2^Width
  output logic             cout_o  // carry out of the top bit
);
  localparam int unsigned Levels = $clog2(Width + 1);
  // Position 0 of the prefix network is the carry in, so bit i sits at position i+1.
  logic [Width:0] g [Levels+1] /*verilator split_var*/;
  logic [Width:0] p [Levels+1] /*verilator split_var*/;
  assign g[0] = {a_i & b_i, cin_i};
  assign p[0] = {a_i ^ b_i, 1'b0};
  for (genvar l = 0; l < Levels; l++) begin : g_level
    localparam int unsigned Dist = 1 << l;
    for (genvar i = 0; i <= Width; i++) begin : g_pos
      if (i >= Dist) begin : g_combine
        assign g[l+1][i] = g[l][i] | (p[l][i] & g[l][i-Dist]);
        assign p[l+1][i] = p[l][i] & p[l][i-Dist];
      end else begin : g_pass
        assign g[l+1][i] = g[l][i];
        assign p[l+1][i] = p[l][i];
      end
    end
  end
  // Carry into bit i is the group generate of positions [0, i].
  assign sum_o  = p[0][Width:1] ^ g[Levels][Width-1:0];
  assign cout_o = g[Levels][Width];
endmodule
