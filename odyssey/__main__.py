from odyssey.ops.cli import main

main()
