# The kernel family can be forced with EMBER_ISA: run the ISA-choice test case under a forced
# supported family, the scalar one, and a name that does not exist (which must fall back).
if(TARGET kernels_matmul_test)
  foreach(isa avx2 scalar no_such_isa)
    add_test(NAME kernels_isa_forced_${isa}
             COMMAND kernels_matmul_test "--test-case=EMBER_ISA forces the kernel family")
    set_tests_properties(kernels_isa_forced_${isa} PROPERTIES ENVIRONMENT "EMBER_ISA=${isa}")
  endforeach()
endif()
