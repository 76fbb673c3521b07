# --tc (issue 13): each translation-cache setting keeps the guests correct and visibly takes
# effect in the same run's --stats=json counters. Included from tests/guests/CMakeLists.txt.
set(tc_check ${CMAKE_COMMAND} -P ${BT86_CHECK_GUEST} -- --status ${BT86_GUEST_PASS_STATUS}
             --timeout ${BT86_GUEST_RUN_TIMEOUT})
set(tc_fields ${PROJECT_SOURCE_DIR}/tests/monitor/check_stats_fields.cmake)
set(tc_out ${CMAKE_CURRENT_BINARY_DIR}/tc)
file(MAKE_DIRECTORY ${tc_out})
get_target_property(tc_paging guest_paging BT86_GUEST_FILE)
get_target_property(tc_smc guest_smc BT86_GUEST_FILE)
set(tc_tests "")

# bt86_tc_correct(<name> <--tc spec>): alu matches native, paging and smc pass their TAP runs.
function(bt86_tc_correct name spec)
  add_test(NAME guest.tc_${name}.alu.matches_native
           COMMAND ${tc_check} ${BT86_I386_RUNNER_ARGS} --reference ${alu_native}
                   --run $<TARGET_FILE:bt86> run --tc ${spec} --kernel ${alu_elf})
  add_test(NAME guest.tc_${name}.paging
           COMMAND ${tc_check} --tap --run $<TARGET_FILE:bt86> run --tc ${spec} --kernel ${tc_paging})
  add_test(NAME guest.tc_${name}.smc
           COMMAND ${tc_check} --tap --run $<TARGET_FILE:bt86> run --tc ${spec} --kernel ${tc_smc})
  set(tc_tests ${tc_tests} guest.tc_${name}.alu.matches_native guest.tc_${name}.paging
               guest.tc_${name}.smc PARENT_SCOPE)
endfunction()

# bt86_tc_effect(<name> <guest elf> <--tc spec> <checks>): the counters show the setting.
function(bt86_tc_effect name elf spec checks)
  add_test(NAME guest.tc_${name}.stats
           COMMAND ${CMAKE_COMMAND} -DFILE=${tc_out}/${name}.json -DSTATUS=1 "-DCHECKS=${checks}"
                   -P ${tc_fields} -- $<TARGET_FILE:bt86> run --tc ${spec} --kernel ${elf}
                   --stats=json --stats-file ${tc_out}/${name}.json)
  set(tc_tests ${tc_tests} guest.tc_${name}.stats PARENT_SCOPE)
endfunction()

# A tiny cache: flushed hundreds of times, yet every guest still right. alu's working set is
# larger than 256K minus the unit reserve; paging and smc run in the smallest cache allowed.
bt86_tc_correct(tiny_cache size=256K)
add_test(NAME guest.tc_smallest_cache.paging
         COMMAND ${tc_check} --tap --run $<TARGET_FILE:bt86> run --tc size=66K --kernel ${tc_paging})
add_test(NAME guest.tc_smallest_cache.smc
         COMMAND ${tc_check} --tap --run $<TARGET_FILE:bt86> run --tc size=66K --kernel ${tc_smc})
list(APPEND tc_tests guest.tc_smallest_cache.paging guest.tc_smallest_cache.smc)
bt86_tc_effect(tiny_cache ${alu_elf} size=256K "translator.flushes>=100;translator.cache_bytes==262144")
bt86_tc_effect(smallest_cache ${tc_paging} size=66K "translator.flushes>=100")
bt86_tc_effect(default_cache ${alu_elf} size=32M "translator.flushes==0")

bt86_tc_correct(no_chain chain=off)
bt86_tc_effect(no_chain ${alu_elf} chain=off "translator.chains==0;translator.units>=100;translator.chaining~^OFF$")
bt86_tc_effect(chain ${alu_elf} chain=on "translator.chains>=100")

bt86_tc_correct(single_insn single-insn=on)
bt86_tc_effect(single_insn ${alu_elf} single-insn=on
               "translator.guest_instructions==1*translator.units;translator.unit_max==1")
bt86_tc_effect(unit_max_3 ${tc_paging} unit-max=3
               "translator.guest_instructions<=3*translator.units;translator.guest_instructions>=2*translator.units")
bt86_tc_correct(unit_max_256 unit-max=256)

bt86_tc_effect(translate_user ${tc_paging} translate-user=on "direct_execution.why~^off [(]")
set_tests_properties(${tc_tests} PROPERTIES LABELS "guest" TIMEOUT ${BT86_GUEST_TEST_TIMEOUT})

# FIFO eviction: the oldest units go in blocks and exactly the chains into them are undone;
# under a tiny cache every guest stays right, and no flush happens for want of room.
bt86_tc_correct(fifo size=256K,evict=fifo)
add_test(NAME guest.tc_fifo_smallest.paging
         COMMAND ${tc_check} --tap --run $<TARGET_FILE:bt86> run --tc size=66K,evict=fifo
                 --kernel ${tc_paging})
add_test(NAME guest.tc_fifo_smallest.smc
         COMMAND ${tc_check} --tap --run $<TARGET_FILE:bt86> run --tc size=66K,evict=fifo
                 --kernel ${tc_smc})
set_tests_properties(guest.tc_fifo_smallest.paging guest.tc_fifo_smallest.smc
                     PROPERTIES LABELS "guest" TIMEOUT ${BT86_GUEST_TEST_TIMEOUT})
bt86_tc_effect(fifo ${alu_elf} size=256K,evict=fifo
               "translator.evictions>=1000;translator.flushes==0;translator.chains_undone>=1;translator.policy~^fifo$")
set_tests_properties(guest.tc_fifo.alu.matches_native guest.tc_fifo.paging guest.tc_fifo.smc
                     guest.tc_fifo.stats PROPERTIES LABELS "guest" TIMEOUT ${BT86_GUEST_TEST_TIMEOUT})

# loop-exits: a loop's exit unit is made with the loop (Options::translate_loop_exits).
bt86_tc_effect(loop_exits_off ${alu_elf} loop-exits=off "translator.loop_exit_units==0")
bt86_tc_effect(loop_exits_on ${alu_elf} loop-exits=on "translator.loop_exit_units>=1")
set_tests_properties(guest.tc_loop_exits_off.stats guest.tc_loop_exits_on.stats
                     PROPERTIES LABELS "guest" TIMEOUT ${BT86_GUEST_TEST_TIMEOUT})

# superblocks: units go on through direct jmp/call (Options::superblocks); both settings keep
# every guest right, and the counters show jumps folded only when on.
bt86_tc_correct(superblocks_on superblocks=on)
bt86_tc_correct(superblocks_off superblocks=off)
bt86_tc_effect(superblocks_on ${alu_elf} superblocks=on
               "translator.jumps_folded>=10;translator.superblocks~^ON$")
bt86_tc_effect(superblocks_off ${alu_elf} superblocks=off
               "translator.jumps_folded==0;translator.calls_folded==0;translator.superblocks~^OFF$")
bt86_tc_correct(superblocks_tiny size=256K,superblocks=on,evict=fifo)
set_tests_properties(
  guest.tc_superblocks_on.alu.matches_native guest.tc_superblocks_on.paging
  guest.tc_superblocks_on.smc guest.tc_superblocks_off.alu.matches_native
  guest.tc_superblocks_off.paging guest.tc_superblocks_off.smc guest.tc_superblocks_on.stats
  guest.tc_superblocks_off.stats guest.tc_superblocks_tiny.alu.matches_native
  guest.tc_superblocks_tiny.paging guest.tc_superblocks_tiny.smc
  PROPERTIES LABELS "guest" TIMEOUT ${BT86_GUEST_TEST_TIMEOUT})

# jc=N: the jump cache's size. A 2-entry cache keeps every guest right and misses far more
# often than the default 64K entries on the same guest.
bt86_tc_correct(jc_tiny jc=2)
bt86_tc_correct(jc_odd_bits jc=4096)
bt86_tc_effect(jc_tiny ${alu_elf} jc=2
               "translator.lookup_misses>=50000;translator.jump_cache_entries==2")
bt86_tc_effect(jc_default ${alu_elf} jc=65536
               "translator.lookup_misses<=5000;translator.lookup_hits>=50000;translator.jump_cache_entries==65536")
set_tests_properties(
  guest.tc_jc_tiny.alu.matches_native guest.tc_jc_tiny.paging guest.tc_jc_tiny.smc
  guest.tc_jc_odd_bits.alu.matches_native guest.tc_jc_odd_bits.paging guest.tc_jc_odd_bits.smc
  guest.tc_jc_tiny.stats guest.tc_jc_default.stats
  PROPERTIES LABELS "guest" TIMEOUT ${BT86_GUEST_TEST_TIMEOUT})

# Generational (nursery FIFO, hot units promoted into a persistent FIFO): under a small cache
# every guest stays right; the counters show promotions and both rings evicting, and a
# threshold no unit reaches promotes nothing. alu runs in 1M: its working set thrashes a
# 128K nursery (a 256K cache: 1.2M translations, ~12 s; docs/PERFORMANCE.md).
bt86_tc_correct(generational size=1M,evict=generational)
add_test(NAME guest.tc_generational_smallest.paging
         COMMAND ${tc_check} --tap --run $<TARGET_FILE:bt86> run --tc size=132K,evict=generational
                 --kernel ${tc_paging})
add_test(NAME guest.tc_generational_smallest.smc
         COMMAND ${tc_check} --tap --run $<TARGET_FILE:bt86> run --tc size=132K,evict=generational
                 --kernel ${tc_smc})
bt86_tc_effect(generational ${alu_elf} size=1M,evict=generational
               "translator.promotions>=100;translator.evictions>=100;translator.flushes==0;translator.policy~^generational$;translator.promote_after==16")
bt86_tc_effect(generational_smallest ${tc_paging} size=132K,evict=generational
               "translator.promotions>=10;translator.persistent_evictions>=1;translator.persistent_bytes>=1")
bt86_tc_effect(generational_cold ${alu_elf} size=1M,evict=generational,promote=1000000000
               "translator.promotions==0;translator.persistent_bytes==0;translator.evictions>=100")
set_tests_properties(guest.tc_generational.alu.matches_native guest.tc_generational.paging
                     guest.tc_generational.smc guest.tc_generational_smallest.paging
                     guest.tc_generational_smallest.smc guest.tc_generational.stats
                     guest.tc_generational_smallest.stats guest.tc_generational_cold.stats
                     PROPERTIES LABELS "guest" TIMEOUT ${BT86_GUEST_TEST_TIMEOUT})

# ib=inline: per-site inline caches in front of the jump cache. Every guest stays right, also
# in a tiny FIFO cache (units die one block at a time, and the slots leading to them with
# them) and with a 2-entry table; the counters show the sites and their hits only when on.
bt86_tc_correct(ib_inline ib=inline)
bt86_tc_correct(ib_inline_fifo size=256K,evict=fifo,ib=inline)
bt86_tc_correct(ib_inline_tiny_jc ib=inline,jc=2)
bt86_tc_effect(ib_inline ${alu_elf} ib=inline
               "translator.inline_hits>=10000;translator.inline_sites>=10;translator.indirect_branches~^inline$")
# Evicted units' slots serve new sites (alu: 63 slots, 26 of them given back, 330K evictions).
bt86_tc_effect(ib_inline_fifo ${alu_elf} size=256K,evict=fifo,ib=inline
               "translator.inline_slots_reclaimed>=10;translator.evictions>=1000")
bt86_tc_effect(ib_table ${alu_elf} ib=table
               "translator.inline_hits==0;translator.inline_sites==0;translator.indirect_branches~^table$")
set_tests_properties(
  guest.tc_ib_inline.alu.matches_native guest.tc_ib_inline.paging guest.tc_ib_inline.smc
  guest.tc_ib_inline_fifo.alu.matches_native guest.tc_ib_inline_fifo.paging
  guest.tc_ib_inline_fifo.smc guest.tc_ib_inline_tiny_jc.alu.matches_native
  guest.tc_ib_inline_tiny_jc.paging guest.tc_ib_inline_tiny_jc.smc guest.tc_ib_inline.stats
  guest.tc_ib_inline_fifo.stats guest.tc_ib_table.stats
  PROPERTIES LABELS "guest" TIMEOUT ${BT86_GUEST_TEST_TIMEOUT})

# The translator knobs together, in a small generational cache with a 2-entry jump cache:
# folded jumps, inline caches and promotions all meet eviction.
bt86_tc_correct(all_knobs superblocks=on,ib=inline,jc=2,evict=generational,size=256K)
set_tests_properties(guest.tc_all_knobs.alu.matches_native guest.tc_all_knobs.paging
                     guest.tc_all_knobs.smc
                     PROPERTIES LABELS "guest" TIMEOUT ${BT86_GUEST_TEST_TIMEOUT})
