int file_shim_placeholder(void){return 0;}
