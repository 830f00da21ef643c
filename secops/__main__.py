from secops.cli import main

main()
