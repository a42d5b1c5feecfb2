# Turns a text file into a C string literal (for the static page script).
# cmake -DIN=file -DOUT=file.inc -P embed.cmake
file(READ ${IN} content)
string(REPLACE "\\" "\\\\" content "${content}")
string(REPLACE "\"" "\\\"" content "${content}")
string(REPLACE "\n" "\\n\"\n\"" content "${content}")
file(WRITE ${OUT} "\"${content}\"\n")
