// The simulation's workload is RaftKV's store and commands: whoever imports the simulator
// gets them too.
@_exported import RaftKV
