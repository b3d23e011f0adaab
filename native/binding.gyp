{
  "targets": [
    {
      "target_name": "tslm_native",
      "sources": [
        "src/addon.cc",
        "src/matmul.cc",
        "src/optim.cc",
        "src/quant.cc",
        "src/segment.cc",
        "src/elementwise.cc",
        "src/layout.cc",
        "src/fused_ops.cc",
        "src/pool.cc"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions", "-frtti", "-Wall", "-Wno-unknown-pragmas"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"],
      "conditions": [
        ["target_arch=='x64'", {
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c"]
        }]
      ]
    }
  ]
}
