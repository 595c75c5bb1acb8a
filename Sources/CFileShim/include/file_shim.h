int file_shim_placeholder(void);
