print("raftkv")
