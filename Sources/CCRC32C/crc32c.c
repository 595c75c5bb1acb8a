int crc32c_placeholder(void){return 0;}
