# The deterministic consensus simulator (tests/sim). Included by
# tests/CMakeLists.txt. Each CTest entry runs a range of seeds of one scenario;
# a failing seed prints the command that replays it.
set(IMI_SIM_DIR ${CMAKE_CURRENT_SOURCE_DIR}/sim)
file(GLOB imi_sim_srcs CONFIGURE_DEPENDS ${IMI_SIM_DIR}/*.cc)
list(FILTER imi_sim_srcs EXCLUDE REGEX ".*_test\\.cc$")

add_executable(imi_sim ${imi_sim_srcs})
target_link_libraries(imi_sim PRIVATE imi_consensus imi_base PkgConfig::SODIUM)

# The same engine built with a deliberately broken quorum rule (q-1), used
# only to prove that the simulator's checker catches a safety violation.
file(GLOB imi_consensus_srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/consensus/*.cc)
add_library(imi_consensus_broken_quorum STATIC ${imi_consensus_srcs})
target_compile_definitions(imi_consensus_broken_quorum PRIVATE IMI_CONSENSUS_BROKEN_QUORUM_FOR_TEST)
target_link_libraries(imi_consensus_broken_quorum PUBLIC imi_base)
add_executable(imi_sim_broken_quorum ${imi_sim_srcs})
target_link_libraries(imi_sim_broken_quorum PRIVATE imi_consensus_broken_quorum imi_base
                      PkgConfig::SODIUM)

# (name, scenario, first seed, seeds, extra flags)
function(imi_sim_test name scenario first count)
  add_test(NAME sim/${name}
           COMMAND imi_sim --scenario ${scenario} --seed ${first} --seeds ${count} ${ARGN})
  set_tests_properties(sim/${name} PROPERTIES TIMEOUT 600)
endfunction()

# 720 seeds in all, 50 of them with real Ed25519 (about 140 s of CPU; the 200
# idle-chain deadlines seeds cost about 3 s).
imi_sim_test(normal normal 1 60)
imi_sim_test(partition partition 1 70)
imi_sim_test(crash crash 1 90)
imi_sim_test(byzantine byzantine 1 80)
imi_sim_test(equivocate equivocate 1 50)
imi_sim_test(valset valset 1 50)
imi_sim_test(mixed mixed 1 70)
imi_sim_test(deadlines deadlines 1 200)
imi_sim_test(ed25519_byzantine byzantine 1001 25 --ed25519)
imi_sim_test(ed25519_mixed mixed 1001 25 --ed25519)

add_test(NAME sim/broken_quorum_is_caught
         COMMAND imi_sim_broken_quorum --scenario equivocate --seed 1 --seeds 30 --expect-violation)
set_tests_properties(sim/broken_quorum_is_caught PROPERTIES TIMEOUT 600)
