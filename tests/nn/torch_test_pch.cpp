// The translation unit that builds the Torch tests' precompiled header (CMakeLists.txt).
