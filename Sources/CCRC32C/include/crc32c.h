int crc32c_placeholder(void);
