module memsight.example/bench/goserver

go 1.19
